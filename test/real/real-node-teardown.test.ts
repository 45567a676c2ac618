import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostSnapshot } from '../../tools/local-cluster/real-node/host-network.js';
import { startLocalCluster, type LocalCluster } from '../../tools/local-cluster/index.js';
import { eventually } from '../harness/eventually.js';
import { buildProjectImages } from './support/images.js';
import { kubectlOk } from './support/kubectl.js';
import { getRealCluster } from './support/state.js';
import { apply, demoPod, fetchFrom, podIp, realNamespace, waitReady } from './support/workloads.js';

/**
 * What a real-node cluster may change on the host (links, namespaces, routes, nftables,
 * ipsets, mounts, the sysctls the kubelet sets, cgroups, /run and /var/lib paths) is back to
 * exactly what it was after each way a cluster can end. The fixture's cluster runs the whole
 * time, so every cluster here also runs beside another one, and must not disturb it.
 */
describe('real nodes: teardown leaves the host as it was', () => {
  let baseline: Record<string, string>;
  let ns: string;
  let witness: () => Promise<void>;

  before(async () => {
    const fixture = getRealCluster();
    ns = await realNamespace(fixture, 'rn-down');
    await apply(fixture, ns, demoPod('witness', { app: 'witness' }));
    await waitReady(fixture, ns, 'app=witness');
    const ip = await podIp(fixture, ns, 'witness');
    // The fixture's cluster keeps working while other clusters come and go.
    witness = async () =>
      assert.equal((await fetchFrom(fixture, ns, 'witness', `http://${ip}:8080/`)).stdout.trim(), '200');
    await witness();
    baseline = await hostSnapshot();
  });

  async function runsAPod(c: LocalCluster): Promise<void> {
    const n = await realNamespace(c, 'rn-x');
    await apply(c, n, demoPod('p', { app: 'p' }));
    await waitReady(c, n, 'app=p');
    const logs = await kubectlOk(c, ['logs', '-n', n, 'p']);
    assert.match(logs, /listening/);
  }

  async function assertHostAsBefore(what: string): Promise<void> {
    await eventually(
      async () => {
        const after = await hostSnapshot();
        for (const key of Object.keys(baseline)) assert.equal(after[key], baseline[key], `${what}: ${key} differs`);
      },
      { what: `host back to its state before (${what})`, timeoutMs: 30_000, intervalMs: 500 },
    );
    await witness();
  }

  it('stop(): two clusters one after the other, each beside the fixture cluster', async function () {
    // Two whole cluster lifetimes; slow on a loaded 2-core machine (no timing is asserted).
    this.timeout(480_000);
    const images = await buildProjectImages(() => {});
    for (const round of [1, 2]) {
      const c = await startLocalCluster({ workloads: true, realNodes: 1, images });
      try {
        assert.notEqual(c.server, getRealCluster().server);
        await runsAPod(c);
        await witness();
      } finally {
        await c.stop();
      }
      assert.ok(!existsSync(c.runDir));
      await assertHostAsBefore(`stop, round ${round}`);
    }
  });

  it('SIGKILL of the launcher: the reaper tears everything down', async function () {
    this.timeout(300_000);
    const images = await buildProjectImages(() => {});
    const out = join(tmpdir(), `bulkhead-hold-${process.pid}.json`);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/real/support/hold-cluster.ts', out, JSON.stringify(images)],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    const exited = new Promise((ok) => child.once('exit', ok));
    const { runDir } = await eventually(async () => JSON.parse(await readFile(out, 'utf8')) as { runDir: string }, {
      what: 'the held cluster is up',
      timeoutMs: 150_000,
      intervalMs: 500,
    });
    assert.ok(existsSync(join(runDir, 'real-node', 'host-record.json')));
    child.kill('SIGKILL');
    await exited;
    await eventually(() => assert.ok(!existsSync(runDir), `${runDir} still there`), {
      what: 'the reaper removed the run folder',
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    await assertHostAsBefore('SIGKILL');
  });

  it('`bulkhead local-cluster up --nodes real:1` then `down`', async function () {
    // `up` builds the images itself (the project layer is rebuilt), then starts the cluster.
    this.timeout(480_000);
    const cli = (...args: string[]) =>
      new Promise<string>((ok, fail) => {
        const child = spawn(process.execPath, ['bin/bulkhead.js', 'local-cluster', ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let text = '';
        child.stdout.on('data', (d: Buffer) => (text += d.toString()));
        child.stderr.on('data', (d: Buffer) => (text += d.toString()));
        child.once('exit', (code) =>
          code === 0 ? ok(text) : fail(new Error(`local-cluster ${args.join(' ')} → ${code}\n${text}`)),
        );
      });
    const name = `rn-cli-${process.pid}`;
    const up = await cli('up', '--name', name, '--nodes', 'real:1');
    assert.match(up, /1 real node/);
    await cli('down', '--name', name);
    await assertHostAsBefore('local-cluster down');
  });
});
