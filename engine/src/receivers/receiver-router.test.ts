import { strict as assert } from 'node:assert';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import type { TokenAuthenticator } from '../observe/index.js';
import type { VerdictIntakeDeps } from '../quarantine/index.js';
import { ALERTMANAGER_PATH, FALCOSIDEKICK_PATH, createReceiverRouter } from './receiver-router.js';

// The routes' gates only (the intake itself runs against a real apiserver in
// test/integration/alerting-receivers-export.test.ts): a follower refuses before anything is
// authenticated or read, as the verdict API does (ADR 1500).
describe('receiver routes on a follower', () => {
  let server: Server;
  let base: string;
  let authentications = 0;
  before(async () => {
    const authenticator = {
      authenticate: () => {
        authentications++;
        return Promise.resolve({ ok: false, reason: 'missing' });
      },
    } as unknown as TokenAuthenticator;
    const router = createReceiverRouter({
      authenticator,
      intake: {} as VerdictIntakeDeps,
      leader: { isLeader: () => false, holder: () => 'engine-b' },
    });
    const app = new Koa();
    app.use(router.routes()).use(router.allowedMethods());
    server = createServer(app.callback());
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((ok) => server.close(ok)));

  const post = (path: string): Promise<{ status: number; leader: string | undefined; body: string }> =>
    new Promise((ok, fail) => {
      const req = request(
        `${base}${path}`,
        { method: 'POST', headers: { 'content-type': 'application/json' } },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () =>
            ok({ status: res.statusCode ?? 0, leader: res.headers['bulkhead-leader'] as string | undefined, body }),
          );
        },
      );
      req.on('error', fail);
      req.end('{"version":"4","alerts":[]}');
    });

  for (const path of [ALERTMANAGER_PATH, FALCOSIDEKICK_PATH])
    it(`${path}: 421 naming the leader, before authentication`, async () => {
      const r = await post(path);
      assert.equal(r.status, 421, r.body);
      assert.equal(r.leader, 'engine-b');
      assert.match(r.body, /NotLeader/);
      assert.equal(authentications, 0);
    });
});
