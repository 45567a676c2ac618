// `bulkhead local-cluster up|env|down`: a detached cluster that kubectl can use, found again
// by name, and stopped without leaving a process or file behind.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '../harness/index.js';
import { alive } from '../harness/process-alive.js';

const run = promisify(execFile);

describe('bulkhead local-cluster up | env | down', () => {
  let stateDir: string;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, BULKHEAD_STATE_DIR: stateDir });
  const cli = (...args: string[]) =>
    run(process.execPath, ['bin/bulkhead.js', 'local-cluster', ...args], { env: env() });

  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'bh-lc-state-'));
  });
  after(async () => {
    await cli('down', '--name', 'cli-test').catch(() => {});
    await rm(stateDir, { recursive: true, force: true });
  });

  it('starts a detached cluster kubectl can use, prints its env, and stops it cleanly', async function () {
    this.timeout(90_000);
    const up = await cli('up', '--name', 'cli-test', '--workloads', '--nodes', '1');
    const kubeconfig = /export KUBECONFIG=(\S+)/.exec(up.stdout)?.[1];
    const binDir = /export PATH=([^:]+):/.exec(up.stdout)?.[1];
    assert.ok(kubeconfig && binDir, up.stdout);

    const again = await cli('up', '--name', 'cli-test').then(
      () => 0,
      (e: { code: number }) => e.code,
    );
    assert.equal(again, 2, 'a second `up` with the same name is a usage error');

    const envOut = await cli('env', '--name', 'cli-test');
    assert.equal(envOut.stdout.trim(), `export KUBECONFIG=${kubeconfig}`);

    const nodes = await eventually(
      async () => {
        const r = await run(join(binDir, 'kubectl'), ['get', 'nodes', '-o', 'name'], {
          env: { ...process.env, KUBECONFIG: kubeconfig },
        });
        assert.match(r.stdout, /node\/kwok-node-0/);
        return r.stdout;
      },
      { what: 'kubectl get nodes' },
    );
    assert.equal(nodes.trim().split('\n').length, 1);

    const state = JSON.parse(await readFile(join(stateDir, 'cli-test.json'), 'utf8')) as {
      runDir: string;
      processes: { pid: number }[];
    };
    assert.equal(state.processes.length, 5);
    const down = await cli('down', '--name', 'cli-test');
    assert.match(down.stdout, /stopped/);
    await eventually(() => assert.deepEqual(state.processes.map((p) => p.pid).filter(alive), []), {
      what: 'components stopped',
    });
    assert.equal(existsSync(state.runDir), false);
    assert.equal(existsSync(join(stateDir, 'cli-test.json')), false);
  });
});
