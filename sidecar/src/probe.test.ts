import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { Prober } from './probe.js';

describe('sidecar Prober', () => {
  let server: Server;
  let port: number;
  let mode: 'ok' | 'fail' | 'hang' = 'ok';
  before(async () => {
    server = createServer((req, res) => {
      if (mode === 'hang') return; // never answers
      res.writeHead(mode === 'ok' ? 200 : 500).end('x');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const http = (timeoutMs = 500): Prober =>
    new Prober(
      {
        type: 'http',
        scheme: 'http',
        headers: [],
        host: '127.0.0.1',
        port,
        path: '/health',
        expectStatus: [{ min: 200, max: 399 }],
      },
      timeoutMs,
    );

  it('records status and latency of a healthy app', async () => {
    mode = 'ok';
    const p = http();
    const r = await p.probe();
    p.close();
    assert.equal(r.ok, true);
    assert.equal(r.status, 200);
    assert.ok(r.latencyMs >= 0);
    assert.equal(r.error, undefined);
  });

  it('classifies an unexpected status', async () => {
    mode = 'fail';
    const p = http();
    const r = await p.probe();
    p.close();
    assert.deepEqual(
      { ok: r.ok, status: r.status, error: r.error },
      { ok: false, status: 500, error: 'UnexpectedStatus' },
    );
  });

  it('classifies a hanging app as a timeout', async () => {
    mode = 'hang';
    const p = http(100);
    const r = await p.probe();
    p.close();
    assert.deepEqual({ ok: r.ok, error: r.error }, { ok: false, error: 'Timeout' });
  });

  it('classifies a closed port as connection refused (http and tcp)', async () => {
    const closed = createTcpServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const dead = (closed.address() as AddressInfo).port;
    await new Promise<void>((ok) => closed.close(() => ok()));
    const h = new Prober(
      {
        type: 'http',
        scheme: 'http',
        headers: [],
        host: '127.0.0.1',
        port: dead,
        path: '/',
        expectStatus: [{ min: 200, max: 200 }],
      },
      500,
    );
    const t = new Prober({ type: 'tcp', host: '127.0.0.1', port: dead }, 500);
    assert.equal((await h.probe()).error, 'ConnectionRefused');
    assert.equal((await t.probe()).error, 'ConnectionRefused');
    h.close();
  });

  it('tcp probe succeeds on a listening port', async () => {
    const t = new Prober({ type: 'tcp', host: '127.0.0.1', port }, 500);
    const r = await t.probe();
    assert.deepEqual({ ok: r.ok, type: r.type }, { ok: true, type: 'tcp' });
  });
});
