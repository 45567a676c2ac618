import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueCertificate } from '../core/pki.js';
import { silentLogger } from '../core/logger.js';
import { eventually } from '../../../test/harness/eventually.js';
import { Forwarder, type ForwardBatch } from './forwarder.js';

describe('observe Forwarder', () => {
  let server: Server;
  let url: string;
  let ca: string;
  let fail = 0;
  const batches: ForwardBatch[] = [];
  before(async () => {
    const authority = await createCertificateAuthority('fw-test', 1);
    ca = authority.cert;
    const cert = await issueCertificate(authority, {
      commonName: '127.0.0.1',
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
      validForDays: 1,
    });
    server = createServer(cert, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (fail > 0) {
          fail--;
          res.writeHead(503).end();
          return;
        }
        batches.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ForwardBatch);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/in`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('retries a failing endpoint and keeps order; a full queue drops the oldest and says how many', async () => {
    fail = 2;
    batches.length = 0;
    const f = new Forwarder({ logger: silentLogger(), ca, queueCapacity: 5, backoff: { baseMs: 10, capMs: 20 } });
    const target = { url, batch: { maxReports: 100, maxWaitMs: 30 } };
    for (let i = 1; i <= 8; i++) f.enqueue(target, { n: i });
    await eventually(() => assert.ok(batches.flatMap((b) => b.reports).length >= 5), {
      what: 'five reports forwarded',
      timeoutMs: 5000,
      intervalMs: 20,
    });
    const got = batches.flatMap((b) => b.reports as { n: number }[]).map((r) => r.n);
    assert.deepEqual(got, [4, 5, 6, 7, 8], 'the oldest three were dropped, the rest arrive in order');
    assert.equal(batches.at(-1)!.dropped, 3);
    assert.equal(f.depth(url), 0);
    await f.close();
  });
});
