// Interrupting a test run must not leave etcd, kube-apiserver, controller-manager, scheduler
// or kwok behind: this starts a second, independent control plane in a child mocha run
// (also proving two clusters run side by side), interrupts it like Ctrl-C, and checks.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../harness/index.js';
import { alive } from '../harness/process-alive.js';

for (const signal of ['SIGINT', 'SIGKILL'] as const) {
  describe(`a test run ended by ${signal}`, () => {
    it('leaves no control-plane process and no run folder behind', async function () {
      this.timeout(120_000);
      const dir = await mkdtemp(join(tmpdir(), 'bh-interrupt-'));
      const stateOut = join(dir, 'state.json');
      const child = spawn(
        process.execPath,
        [
          'node_modules/mocha/bin/mocha.js',
          '--require',
          'test/harness/global-fixture.ts',
          '--node-option',
          'import=tsx',
          '--extension',
          'ts',
          '--timeout',
          '0',
          'test/integration/fixtures/interrupted-run.spec.ts',
        ],
        {
          env: { ...process.env, BULKHEAD_TEST_STATE_OUT: stateOut },
          stdio: ['ignore', 'ignore', 'pipe'],
          detached: true,
        },
      );
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise((ok) => child.once('exit', ok));
      try {
        const state = await eventually(
          async () => JSON.parse(await readFile(stateOut, 'utf8')) as { runDir: string; pids: number[] },
          { timeoutMs: 90_000, intervalMs: 250, what: `child control plane up (stderr: ${stderr.slice(-500)})` },
        );
        assert.equal(state.pids.length, 5, 'etcd, apiserver, controller-manager, scheduler, kwok');
        assert.ok(state.pids.every(alive), 'all components running before the interrupt');
        // Like Ctrl-C in a terminal: the signal goes to the whole foreground process group.
        process.kill(-child.pid!, signal);
        await exited;
        await eventually(
          () => {
            const left = state.pids.filter(alive);
            assert.deepEqual(left, [], `still running: ${left.join(', ')}`);
            assert.equal(existsSync(state.runDir), false, `run folder ${state.runDir} still there`);
          },
          { timeoutMs: 20_000, what: 'everything cleaned up' },
        );
      } finally {
        if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
}
