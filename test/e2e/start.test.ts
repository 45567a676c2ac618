// `npm start` is the first thing a newcomer runs: it must tell the whole story on a local
// control plane (binaries built on first use) and exit 0 — what CI runs as the e2e test.
// This file runs the kwok story (`--kwok`, what a machine without root gets); the real-node
// story, `npm start`'s default as root on Linux, is test/real/demo-story.test.ts.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';

describe('npm start -- --kwok (bulkhead demo on kwok nodes)', () => {
  it('tells the whole story and exits 0', async () => {
    const child = spawn('npm', ['start', '--silent', '--', '--kwok'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((ok) => child.once('exit', ok));
    assert.equal(code, 0, out);
    for (const step of [
      /✔ control plane up at https:\/\/127\.0\.0\.1:\d+/,
      /✔ policy synced: revision [0-9a-f]{12} applied/,
      /✔ sidecar injected into 4 pods/,
      /✔ failure detected: ConsecutiveFailures/,
      /✔ pod quarantined [\d.]+s after its app started failing/,
      /✔ replacement checkout-\S+ Running on kwok-node-\d/,
      /✔ record committed to the policy repository: [0-9a-f]{7,} bulkhead: quarantine: shop\/checkout-/,
      /✔ dashboard \(read-only, token-protected\): https:\/\/127\.0\.0\.1:\d+\/dashboard\//,
      /✔ story complete/,
      /done in \d+s on kwok nodes: checkout-\S+ quarantined, checkout-\S+ took its place on kwok-node-\d/,
    ]) {
      assert.match(out, step, `missing step ${step}\n${out}`);
    }
  });
});
