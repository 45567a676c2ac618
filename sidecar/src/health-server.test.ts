import { strict as assert } from 'node:assert';
import { get } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { startHealthServer } from './health-server.js';
import { createLog } from './log.js';

const status = () => ({ healthy: true, body: { status: 'ok' } });
const lines: string[] = [];
const log = createLog('debug', (l) => lines.push(l));

const healthz = (host: string, port: number): Promise<number> =>
  new Promise((ok, fail) =>
    get({ host, port, path: '/healthz', agent: false }, (res) => {
      res.resume();
      ok(res.statusCode ?? 0);
    }).on('error', fail),
  );

const until = async (f: () => boolean): Promise<void> => {
  for (let i = 0; i < 100 && !f(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(f());
};

/** The "pod IP" here: another loopback address (Linux routes all of 127/8 to lo). */
const podIp = '127.0.0.2';

describe('sidecar health server', () => {
  it('serves /healthz on 0.0.0.0', async () => {
    const probe: Server = createServer();
    await new Promise<void>((ok) => probe.listen(0, '127.0.0.1', ok));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((ok) => probe.close(() => ok()));
    const h = startHealthServer(port, status, { log });
    await until(() => h.address() !== undefined);
    assert.equal(h.address(), `0.0.0.0:${port}`);
    assert.equal(await healthz('127.0.0.1', port), 200);
    await h.close();
  });

  it('never throws on a taken port: falls back to the pod IP when only loopback is taken, else keeps retrying', async () => {
    const squatter: Server = createServer();
    await new Promise<void>((ok) => squatter.listen(0, '127.0.0.1', ok));
    const port = (squatter.address() as AddressInfo).port;
    const h = startHealthServer(port, status, { log, podIp });
    await until(() => h.address() !== undefined);
    assert.equal(h.address(), `${podIp}:${port}`, 'the kubelet probes the pod IP');
    assert.equal(await healthz(podIp, port), 200);
    await h.close();
    await new Promise<void>((ok) => squatter.close(() => ok()));

    const everywhere: Server = createServer();
    await new Promise<void>((ok) => everywhere.listen(0, '0.0.0.0', ok));
    const taken = (everywhere.address() as AddressInfo).port;
    lines.length = 0;
    const h2 = startHealthServer(taken, status, { log, podIp });
    await until(() => lines.some((l) => l.includes('health endpoint not serving')));
    assert.equal(h2.address(), undefined);
    await h2.close();
    await new Promise<void>((ok) => everywhere.close(() => ok()));
  });
});
