import { strict as assert } from 'node:assert';
import { createServer as createH2Server, type Http2Server } from 'node:http2';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeHealthCheckResponse, encodeHealthCheckRequest } from './grpc-probe.js';
import { Prober } from './probe.js';

describe('sidecar Prober: https and grpc, as the kubelet probes them', () => {
  it('probes HTTPS without verifying the app certificate and sends the probe headers (Host included)', async () => {
    // A self-signed certificate for another name: the kubelet does not verify it, nor may we.
    const dir = mkdtempSync(join(tmpdir(), 'sidecar-https-'));
    // prettier-ignore
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=app.invalid', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const cert = { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
    rmSync(dir, { recursive: true });
    const seen: { host?: string; token?: string; path?: string }[] = [];
    const server: Server = createHttpsServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      seen.push({ host: req.headers.host, token: req.headers['x-probe'] as string, path: req.url });
      res.writeHead(204).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const port = (server.address() as AddressInfo).port;
      const p = new Prober(
        {
          type: 'http',
          scheme: 'https',
          host: '127.0.0.1',
          port,
          path: '/ready',
          headers: [
            { name: 'Host', value: 'shop.example' },
            { name: 'X-Probe', value: 'yes' },
          ],
          expectStatus: [{ min: 200, max: 399 }],
        },
        2000,
      );
      const r = await p.probe();
      p.close();
      assert.deepEqual({ ok: r.ok, status: r.status, type: r.type }, { ok: true, status: 204, type: 'http' });
      assert.deepEqual(seen, [{ host: 'shop.example', token: 'yes', path: '/ready' }]);
      // The same port probed as plain HTTP is not healthy: the scheme matters.
      const plain = new Prober(
        {
          type: 'http',
          scheme: 'http',
          host: '127.0.0.1',
          port,
          path: '/ready',
          headers: [],
          expectStatus: [{ min: 200, max: 399 }],
        },
        2000,
      );
      assert.equal((await plain.probe()).ok, false);
      plain.close();
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('grpc: SERVING is healthy, NOT_SERVING and an unknown service are not, per service name', async () => {
    const statuses: Record<string, number> = { '': 1, shop: 2 };
    const asked: string[] = [];
    const server: Http2Server = createH2Server();
    server.on('stream', (stream, headers) => {
      assert.equal(headers[':path'], '/grpc.health.v1.Health/Check');
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const body = Buffer.concat(chunks);
        const service = body.length > 5 ? body.subarray(7).toString('utf8') : '';
        asked.push(service);
        const status = statuses[service];
        if (status === undefined) {
          // NOT_FOUND, trailers-only: what a real server answers for an unknown service.
          stream.respond(
            { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5' },
            { endStream: true },
          );
          return;
        }
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        const msg = Buffer.from([0x08, status]);
        const frame = Buffer.alloc(5);
        frame.writeUInt32BE(msg.length, 1);
        stream.end(Buffer.concat([frame, msg]));
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const port = (server.address() as AddressInfo).port;
      const probe = async (service: string) => {
        const p = new Prober({ type: 'grpc', host: '127.0.0.1', port, service }, 2000);
        const r = await p.probe();
        p.close();
        return { ok: r.ok, type: r.type, error: r.error };
      };
      assert.deepEqual(await probe(''), { ok: true, type: 'grpc', error: undefined });
      assert.deepEqual(await probe('shop'), { ok: false, type: 'grpc', error: 'UnexpectedStatus' });
      assert.deepEqual(await probe('nope'), { ok: false, type: 'grpc', error: 'UnexpectedStatus' });
      assert.deepEqual(asked, ['', 'shop', 'nope']);
    } finally {
      server.close();
    }
    const dead = new Prober(
      { type: 'grpc', host: '127.0.0.1', port: (server.address() as AddressInfo | null)?.port ?? 1, service: '' },
      1000,
    );
    assert.equal((await dead.probe()).error, 'ConnectionRefused');
  });

  it('encodes the request and decodes the response of grpc.health.v1', () => {
    assert.deepEqual([...encodeHealthCheckRequest('')], [0, 0, 0, 0, 0]);
    assert.deepEqual([...encodeHealthCheckRequest('ab')], [0, 0, 0, 0, 4, 0x0a, 2, 0x61, 0x62]);
    assert.equal(decodeHealthCheckResponse(Buffer.from([0, 0, 0, 0, 2, 0x08, 1])), 1);
    assert.equal(decodeHealthCheckResponse(Buffer.from([0, 0, 0, 0, 0])), 0, 'UNKNOWN is the absent field');
    assert.equal(decodeHealthCheckResponse(Buffer.from([0, 0, 0, 0, 9])), undefined);
  });
});
