import { strict as assert } from 'node:assert';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Router } from '@koa/router';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/logger.js';
import { createAdmissionApp } from './app.js';

describe('admission app with extra routes (the engine mounts ingest and verdicts on the same port)', () => {
  it('serves the extra route and still answers the admission paths', async () => {
    const extra = new Router();
    extra.get('/api/v1/ping', (ctx) => {
      ctx.body = { pong: true };
    });
    const app = createAdmissionApp({
      logger: silentLogger(),
      registry: new Registry(),
      mutate: (r) => ({ outcome: 'unchanged', response: { uid: r.uid, allowed: true } }),
      validate: (r) => ({ outcome: 'allowed', response: { uid: r.uid, allowed: true } }),
      extraRouters: [extra],
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((ok) => server.once('listening', ok));
    const port = (server.address() as AddressInfo).port;
    const get = (path: string, method = 'GET'): Promise<{ status: number; body: string }> =>
      new Promise((ok, fail) => {
        const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', fail);
        req.end();
      });
    try {
      assert.deepEqual(await get('/api/v1/ping'), { status: 200, body: '{"pong":true}' });
      assert.equal((await get('/mutate')).status, 405, 'admission paths still reach the admission handler');
      assert.equal((await get('/nope')).status, 404);
    } finally {
      await new Promise((ok) => server.close(ok));
    }
  });
});
