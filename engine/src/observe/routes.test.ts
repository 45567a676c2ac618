import { strict as assert } from 'node:assert';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/logger.js';
import { TokenAuthenticator, type TokenReviewStatus } from './authenticator.js';
import { HealthStore } from './health-store.js';
import { createObserveMetrics } from './metrics.js';
import { RateLimiter } from './rate-limiter.js';
import { ReadAuthorizer } from './read-authorizer.js';
import { createReportValidator } from './report-validator.js';
import { createObserveRouter } from './routes.js';

// The routes over a real HTTP connection, with the apiserver reviews replaced by tables.
const tokens: Record<string, TokenReviewStatus> = {
  'pod-a': {
    authenticated: true,
    audiences: ['bulkhead'],
    user: {
      username: 'system:serviceaccount:shop:default',
      extra: { 'authentication.kubernetes.io/pod-name': ['a'], 'authentication.kubernetes.io/pod-uid': ['uid-a'] },
    },
  },
  reader: { authenticated: true, audiences: ['bulkhead'], user: { username: 'alice', groups: ['ops'] } },
};
const body = (pod = { namespace: 'shop', name: 'a', uid: 'uid-a' }, seq = 1): string =>
  JSON.stringify({
    apiVersion: 'bulkhead.dev/v1alpha1',
    kind: 'HealthReport',
    pod,
    sidecar: { version: '0.1.0', instance: 'i', startedAt: '2026-11-26T00:00:00Z' },
    dropped: 0,
    samples: [{ seq, time: new Date().toISOString(), probe: { type: 'http', ok: true, latencyMs: 1, status: 200 } }],
  });

describe('observe routes', () => {
  let server: Server;
  let port: number;
  let registry: Registry;
  const call = (
    method: string,
    path: string,
    opts: { token?: string; body?: string; accept?: string } = {},
  ): Promise<{ status: number; text: string }> =>
    new Promise((ok, fail) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          headers: {
            ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
            ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(opts.accept ? { accept: opts.accept } : {}),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => ok({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', fail);
      req.end(opts.body);
    });

  before(async () => {
    registry = new Registry();
    const metrics = createObserveMetrics(registry);
    const router = createObserveRouter({
      authenticator: new TokenAuthenticator({
        audience: 'bulkhead',
        review: async (t) => tokens[t] ?? { authenticated: false },
      }),
      readAuthorizer: new ReadAuthorizer(async ({ user, namespace }) => user === 'alice' && namespace === 'shop'),
      store: new HealthStore(),
      validate: createReportValidator(),
      rateLimiter: new RateLimiter(0.001, 5),
      metrics,
      logger: silentLogger(),
      bodyLimitBytes: 4096,
    });
    const app = new Koa().use(router.routes()).use(router.allowedMethods());
    server = createServer(app.callback());
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  it('checks in order: 401, 403 (not pod-bound), 413, 422, 403 (another pod), then 202', async () => {
    assert.equal((await call('POST', '/api/v1/reports', { body: body() })).status, 401);
    assert.equal((await call('POST', '/api/v1/reports', { token: 'nobody', body: body() })).status, 401);
    assert.equal((await call('POST', '/api/v1/reports', { token: 'reader', body: body() })).status, 403);
    assert.equal((await call('POST', '/api/v1/reports', { token: 'pod-a', body: 'x'.repeat(5000) })).status, 413);
    const invalid = await call('POST', '/api/v1/reports', {
      token: 'pod-a',
      body: JSON.stringify({ kind: 'HealthReport' }),
    });
    assert.equal(invalid.status, 422);
    assert.match(invalid.text, /"pointer":"\/apiVersion"/);
    assert.equal(
      (
        await call('POST', '/api/v1/reports', {
          token: 'pod-a',
          body: body({ namespace: 'shop', name: 'b', uid: 'uid-b' }),
        })
      ).status,
      403,
    );
    const ok = await call('POST', '/api/v1/reports', { token: 'pod-a', body: body() });
    assert.equal(ok.status, 202, ok.text);
    const m = await registry.getSingleMetricAsString('bulkhead_observe_auth_failures_total');
    assert.match(m, /reason="missing"} 1/);
    assert.match(m, /reason="rejected"} 1/);
  });

  it('429s past the per-pod burst', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 6; i++)
      codes.push((await call('POST', '/api/v1/reports', { token: 'pod-a', body: body(undefined, 10 + i) })).status);
    assert.ok(codes.includes(429), codes.join());
  });

  it('serves health to RBAC-allowed readers as JSON and NDJSON', async () => {
    assert.equal((await call('GET', '/api/v1/health?namespace=other', { token: 'reader' })).status, 403);
    assert.equal((await call('GET', '/api/v1/health?pod=a', { token: 'reader' })).status, 400);
    assert.equal((await call('GET', '/api/v1/health?namespace=shop&since=yesterday', { token: 'reader' })).status, 400);
    const json = await call('GET', '/api/v1/health?namespace=shop&since=5m', { token: 'reader' });
    assert.equal(json.status, 200);
    const list = JSON.parse(json.text) as { kind: string; items: { pod: string; samples: unknown[] }[] };
    assert.equal(list.kind, 'HealthList');
    assert.equal(list.items[0]?.pod, 'a');
    const nd = await call('GET', '/api/v1/health?namespace=shop', { token: 'reader', accept: 'application/x-ndjson' });
    const lines = nd.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; uid: string });
    assert.ok(lines.length >= 1 && lines.every((l) => l.kind === 'sample' && l.uid === 'uid-a'));
  });
});
