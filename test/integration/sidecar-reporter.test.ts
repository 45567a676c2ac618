// The sidecar's Reporter in-process against a scripted HTTPS engine: retry and order on 5xx,
// discard on 422, token re-read on every send (projected tokens rotate), urgent sends, the
// SIGTERM drain within its deadline, and the engine's CA followed through a missing file and
// a rotation (the file swapped the way the kubelet swaps a projected ConfigMap). (In test/integration because it needs core/pki for TLS,
// which sidecar/src may not import.)
import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, rename, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createCertificateAuthority, issueCertificate, type KeyPair } from '../../engine/src/core/pki.js';
import { buildSidecar } from '../../sidecar/build.js';
import { CaTrust } from '../../sidecar/src/ca-trust.js';
import { readConfig } from '../../sidecar/src/config.js';
import { createLog } from '../../sidecar/src/log.js';
import type { Sample } from '../../sidecar/src/report.js';
import { Reporter } from '../../sidecar/src/reporter.js';
import { eventually } from '../harness/index.js';

describe('sidecar Reporter against a scripted HTTPS engine', () => {
  let server: Server;
  let authority: KeyPair;
  let url: string;
  let dir: string;
  const script: (number | 'hang')[] = [];
  const seen: { token: string; seqs: number[]; dropped: number; status: number }[] = [];
  const held: ServerResponse[] = [];

  before(async () => {
    authority = await createCertificateAuthority('reporter-test', 1);
    server = createServer(await servingCert(authority), (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const next = script.shift() ?? 202;
        if (next === 'hang') {
          held.push(res);
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { dropped: number; samples: Sample[] };
        seen.push({
          token: String(req.headers.authorization),
          seqs: body.samples.map((s) => s.seq),
          dropped: body.dropped,
          status: next,
        });
        res.writeHead(next).end();
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/reports`;
    dir = await mkdtemp(join(tmpdir(), 'bh-reporter-'));
    await writeFile(join(dir, 'ca.crt'), authority.cert);
  });
  after(() => {
    for (const r of held) r.destroy();
    server.closeAllConnections();
    server.close();
  });
  beforeEach(() => {
    script.length = 0;
    seen.length = 0;
  });

  const make = (
    env: Record<string, string> = {},
    log = createLog('error', () => {}),
  ): { reporter: Reporter; abort: AbortController; run: Promise<void> } => {
    const cfg = readConfig({
      BULKHEAD_POD_NAME: 'p',
      BULKHEAD_POD_NAMESPACE: 'ns',
      BULKHEAD_POD_UID: 'uid',
      BULKHEAD_PROBE_PORT: '8080',
      BULKHEAD_REPORT_URL: url,
      BULKHEAD_TOKEN_PATH: join(dir, 'token'),
      BULKHEAD_BACKOFF_BASE: '20ms',
      BULKHEAD_BACKOFF_CAP: '50ms',
      BULKHEAD_REPORT_INTERVAL: '1h',
      BULKHEAD_REQUEST_TIMEOUT: '300ms',
      BULKHEAD_CA_PATH: join(dir, 'ca.crt'),
      ...env,
    });
    const reporter = new Reporter(
      cfg,
      { pod: cfg.pod, sidecar: { version: 't', instance: 'i', startedAt: new Date().toISOString() } },
      log,
      new CaTrust({ path: cfg.caPath, log }),
    );
    const abort = new AbortController();
    return { reporter, abort, run: reporter.run(abort.signal) };
  };
  let seq = 0;
  const sample = (): Sample => ({
    seq: ++seq,
    time: new Date().toISOString(),
    probe: { type: 'http', ok: true, latencyMs: 1, status: 200 },
  });

  it('retries 5xx with backoff and delivers in order, once; re-reads the token for every send', async () => {
    await writeFile(join(dir, 'token'), 'token-1');
    const { reporter, abort, run } = make();
    script.push(503, 503);
    const first = seq + 1;
    reporter.add(sample());
    reporter.add(sample());
    reporter.add(sample(), true);
    await eventually(() => assert.equal(reporter.snapshot().delivered, 3), { what: 'three samples delivered' });
    assert.deepEqual(
      seen.map((s) => s.status),
      [503, 503, 202],
    );
    assert.deepEqual(seen.at(-1)!.seqs, [first, first + 1, first + 2]);
    assert.equal(reporter.snapshot().sendFailures, 2);
    await writeFile(join(dir, 'token'), 'token-2\n');
    reporter.add(sample(), true);
    await eventually(() => assert.equal(reporter.snapshot().delivered, 4), { what: 'fourth sample delivered' });
    assert.equal(seen.at(-1)!.token, 'Bearer token-2');
    abort.abort();
    await run;
    reporter.close();
  });

  it('discards a batch the engine rejects as invalid (422) instead of blocking behind it', async () => {
    const { reporter, abort, run } = make();
    script.push(422);
    reporter.add(sample(), true);
    await eventually(() => assert.equal(reporter.snapshot().rejected, 1), { what: 'batch rejected' });
    reporter.add(sample(), true);
    await eventually(() => assert.equal(reporter.snapshot().delivered, 1), { what: 'next batch delivered' });
    assert.equal(reporter.buffer.length, 0);
    abort.abort();
    await run;
    reporter.close();
  });

  it('drain (the SIGTERM path) sends everything buffered, or gives up at its deadline', async () => {
    const { reporter, abort, run } = make({ BULKHEAD_REPORT_BATCH: '2' });
    abort.abort();
    await run;
    for (let i = 0; i < 5; i++) reporter.add(sample());
    assert.equal(await reporter.drain(Date.now() + 5_000), true);
    assert.equal(reporter.buffer.length, 0);
    assert.deepEqual(
      seen.map((s) => s.seqs.length),
      [2, 2, 1],
      'in batches of 2',
    );
    script.push('hang', 'hang', 'hang', 'hang', 'hang', 'hang', 'hang', 'hang');
    reporter.add(sample());
    assert.equal(await reporter.drain(Date.now() + 800), false, 'deadline passed with the engine hanging');
    assert.equal(reporter.buffer.length, 1, 'nothing lost from the buffer');
    reporter.close();
  });

  it('follows the engine CA: waits while the file is missing, then picks up a rotated bundle after a verify failure', async () => {
    await writeFile(join(dir, 'token'), 'token-1');
    // The kubelet's layout: ca.crt -> ..data/ca.crt, ..data -> a timestamped dir, swapped by rename.
    const vol = join(dir, `vol-${Date.now()}`);
    await mkdir(vol);
    const project = async (bundle: string, gen: number): Promise<void> => {
      await mkdir(join(vol, `..${gen}`));
      await writeFile(join(vol, `..${gen}`, 'ca.crt'), bundle);
      await symlink(`..${gen}`, join(vol, `..data_tmp`));
      await rename(join(vol, '..data_tmp'), join(vol, '..data'));
    };
    const lines: string[] = [];
    const { reporter, abort, run } = make(
      { BULKHEAD_CA_PATH: join(vol, 'ca.crt') },
      createLog('info', (l) => void lines.push(l)),
    );
    try {
      reporter.add(sample(), true);
      await eventually(() => assert.ok(reporter.snapshot().sendFailures >= 2), { what: 'retrying without a CA' });
      assert.equal(seen.length, 0, 'nothing sent without the engine CA (no system trust store)');
      assert.match(reporter.snapshot().lastError ?? '', /not there yet/);
      assert.equal(lines.filter((l) => l.includes('not reporting until it appears')).length, 1, 'said once');

      // The engine publishes its CA: the pod's volume gets the file (a symlink, as the kubelet makes it).
      await project(authority.cert, 1);
      await symlink('..data/ca.crt', join(vol, 'ca.crt'));
      await eventually(() => assert.equal(reporter.snapshot().delivered, 1), { what: 'delivered once the CA exists' });

      // Rotation: the engine first publishes old + new CA, then serves a cert from the new one.
      const next = await createCertificateAuthority('reporter-test-next', 1);
      await project(`${authority.cert}${next.cert}`, 2);
      server.setSecureContext(await servingCert(next));
      server.closeAllConnections(); // the keep-alive socket would otherwise go on with the old cert
      reporter.add(sample(), true);
      await eventually(() => assert.equal(reporter.snapshot().delivered, 2), {
        what: 'delivered to the server with the new CA',
      });
      assert.ok(lines.some((l) => l.includes('engine CA changed')));
    } finally {
      abort.abort();
      await run;
      reporter.close();
      server.setSecureContext(await servingCert(authority));
      server.closeAllConnections();
    }
  });

  it('a misconfigured sidecar process says why and stays up (no crash loop to take the pod out of service)', async () => {
    const file = await buildSidecar();
    const child = spawn(process.execPath, [file], {
      env: { PATH: process.env.PATH ?? '', BULKHEAD_POD_NAME: 'p' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await eventually(() => assert.match(stderr, /invalid configuration; not monitoring/), {
        what: 'the configuration problems logged',
      });
      assert.match(stderr, /BULKHEAD_REPORT_URL is required/);
      assert.equal(child.exitCode, null, 'still running');
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});

async function servingCert(ca: KeyPair): Promise<{ cert: string; key: string }> {
  const c = await issueCertificate(ca, {
    commonName: '127.0.0.1',
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
    validForDays: 1,
  });
  return { cert: c.cert, key: c.key };
}
