import { strict as assert } from 'node:assert';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { silentLogger } from '../core/logger.js';
import type { LeaderView } from '../core/http/leader-gate.js';
import { hmacSha256Hex } from '../source/webhook-signature.js';
import { gitHookRouter } from './git-hook-router.js';

const SECRET = 'a-long-enough-webhook-secret';

async function serve(leader: LeaderView, triggered: string[]) {
  const app = new Koa();
  const r = gitHookRouter({
    secret: SECRET,
    logger: silentLogger(),
    leader,
    trigger: (s) => {
      triggered.push(s);
      return 'queued';
    },
  });
  app.use(r.routes());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((ok) => server.once('listening', ok));
  const port = (server.address() as AddressInfo).port;
  const post = (
    signature: (body: string) => string,
  ): Promise<{ status: number; headers: Record<string, unknown>; body: string }> =>
    new Promise((ok, fail) => {
      const body = '{"ref":"refs/heads/main"}';
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/hooks/git/repo',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature(body) },
        },
        (res) => {
          let b = '';
          res.on('data', (d: Buffer) => (b += d.toString()));
          res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: b }));
        },
      );
      req.on('error', fail);
      req.end(body);
    });
  return { post: (sign = true) => post((b) => (sign ? `sha256=${hmacSha256Hex(SECRET, b)}` : 'sha256=00')), server };
}

describe('git push hook on a replica that is not the leader', () => {
  it('answers 421 naming the leader and queues nothing; an unsigned request is still 401', async () => {
    const triggered: string[] = [];
    const { post, server } = await serve({ isLeader: () => false, holder: () => 'engine-a' }, triggered);
    try {
      const r = await post();
      assert.equal(r.status, 421);
      assert.equal(r.headers['bulkhead-leader'], 'engine-a');
      assert.equal((JSON.parse(r.body) as { leader: string }).leader, 'engine-a');
      assert.equal((await post(false)).status, 401);
      assert.deepEqual(triggered, []);
    } finally {
      await new Promise((ok) => server.close(ok));
    }
  });
  it('with no leader known: 503 with Retry-After; on the leader: 202 queued', async () => {
    const triggered: string[] = [];
    let leading = false;
    const { post, server } = await serve({ isLeader: () => leading, holder: () => undefined }, triggered);
    try {
      const r = await post();
      assert.equal(r.status, 503);
      assert.ok(r.headers['retry-after']);
      assert.deepEqual(triggered, []);
      leading = true;
      const ok = await post();
      assert.equal(ok.status, 202);
      assert.equal((JSON.parse(ok.body) as { queued: boolean }).queued, true);
      assert.deepEqual(triggered, ['repo']);
    } finally {
      await new Promise((ok) => server.close(ok));
    }
  });
});
