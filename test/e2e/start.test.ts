// `npm start` is the first thing a newcomer runs: on a machine with the binaries built it must
// bring the local control plane up and exit 0 (`--once` stops it right after, for CI).
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';

describe('npm start', () => {
  it('brings up the local control plane and exits 0', async () => {
    const child = spawn(process.execPath, ['bin/bulkhead.js', 'demo', '--once'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((ok) => child.once('exit', ok));
    assert.equal(code, 0, out);
    assert.match(out, /control plane up at https:\/\/127\.0\.0\.1:\d+/);
    assert.match(out, /export KUBECONFIG=\S+admin\.kubeconfig/);
  });
});
