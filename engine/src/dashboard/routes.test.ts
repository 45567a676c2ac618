import { strict as assert } from 'node:assert';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import Koa from 'koa';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { KubeClient } from '../core/kube/client.js';
import { HealthStore } from '../observe/index.js';
import { SESSION_COOKIE } from './auth.js';
import { createDashboardRouter } from './routes.js';
import type { DashboardSnapshot, Timeline } from './view-model.js';

// The router over real HTTP, with a tiny fake apiserver behind a real KubeClient.
const TOKEN = 'dashboard-token-0123456789';

const listen = async (handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> => {
  const server = createServer(handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, port: (server.address() as AddressInfo).port };
};

describe('dashboard routes', () => {
  let api: Server;
  let app: Server;
  let port: number;
  let apiCalls: string[];
  let forbidQuarantines: boolean;
  let logLines: string[];
  const registry = new Registry();
  const store = new HealthStore();

  const get = (
    path: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> =>
    new Promise((ok, fail) => {
      const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          ok({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
      });
      req.on('error', fail);
      req.end();
    });
  const bearer = { authorization: `Bearer ${TOKEN}` };

  before(async () => {
    apiCalls = [];
    forbidQuarantines = false;
    logLines = [];
    const fake = await listen((req, res) => {
      apiCalls.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      if (req.url?.startsWith('/apis/bulkhead.dev/v1alpha1/quarantines') && forbidQuarantines) {
        res.statusCode = 403;
        res.end(
          JSON.stringify({ kind: 'Status', reason: 'Forbidden', message: 'quarantines is forbidden', code: 403 }),
        );
        return;
      }
      const items = req.url?.startsWith('/apis/bulkhead.dev/v1alpha1/policysources')
        ? [
            {
              apiVersion: 'bulkhead.dev/v1alpha1',
              kind: 'PolicySource',
              metadata: { name: 'fleet' },
              spec: { url: 'https://git.example/p.git' },
            },
          ]
        : [];
      res.end(JSON.stringify({ items, metadata: {} }));
    });
    api = fake.server;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${fake.port}`, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const logger = pino({ level: 'debug' }, { write: (l: string) => void logLines.push(l) });
    const router = createDashboardRouter({
      client: new KubeClient(kc),
      store,
      token: `${TOKEN}\n`,
      logger,
      registry,
      refreshMs: 0,
    });
    const koa = new Koa();
    koa.use(router.routes()).use(router.allowedMethods());
    const served = await listen(koa.callback());
    app = served.server;
    port = served.port;
    store.addReport({
      pod: { namespace: 'shop', name: '<script>x</script>', uid: 'u-1' },
      sidecar: { version: '1', instance: 'i' },
      dropped: 0,
      samples: [
        {
          seq: 1,
          time: new Date().toISOString(),
          probe: { type: 'http', ok: false, latencyMs: 2000, error: 'Timeout' },
        },
      ],
    });
    store.setPolicy('u-1', 'web');
  });
  after(() => {
    app.close();
    api.close();
  });

  it('refuses a weak token at construction', () => {
    assert.throws(
      () =>
        createDashboardRouter({
          client: {} as KubeClient,
          store,
          token: ' short \n',
          logger: pino({ level: 'silent' }),
        }),
      /at least 16/,
    );
  });

  it('401 without credentials, for the page, the assets and the API; nothing is read from the cluster', async () => {
    apiCalls = [];
    for (const path of [
      '/dashboard/',
      '/dashboard/app.js',
      '/dashboard/api/snapshot',
      '/dashboard/api/timeline?uid=u-1',
    ]) {
      const r = await get(path);
      assert.equal(r.status, 401, path);
      assert.equal(r.headers['www-authenticate'], 'Bearer realm="bulkhead-dashboard"');
    }
    assert.equal((await get('/dashboard/api/snapshot', { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await get('/dashboard/api/snapshot', { cookie: `${SESSION_COOKIE}=forged` })).status, 401);
    assert.deepEqual(apiCalls, []);
  });

  it('?token= sets the session cookie and redirects to the URL without the token; the cookie then opens the page', async () => {
    const r = await get(`/dashboard/?token=${encodeURIComponent(TOKEN)}`);
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, './');
    const setCookie = r.headers['set-cookie']?.[0] ?? '';
    assert.match(setCookie, /HttpOnly; SameSite=Strict/);
    assert.ok(!setCookie.includes(TOKEN));
    const page = await get('/dashboard/', { cookie: setCookie.split(';')[0]! });
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'] ?? '', /text\/html/);
    assert.match(page.text, /<script src="app.js" defer><\/script>/);
    assert.equal((await get(`/dashboard/?token=nope`)).status, 401);
    assert.ok(!logLines.join('').includes(TOKEN), 'the token is never logged');
  });

  it('/dashboard redirects to /dashboard/ (the page uses relative URLs)', async () => {
    const r = await get('/dashboard', bearer);
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, 'dashboard/');
  });

  it('every response carries a CSP without inline script, style or eval', async () => {
    for (const path of ['/dashboard/', '/dashboard/app.js', '/dashboard/style.css', '/dashboard/api/snapshot']) {
      const r = await get(path, bearer);
      assert.equal(r.status, 200, path);
      const csp = String(r.headers['content-security-policy'] ?? '');
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.ok(!/unsafe-inline|unsafe-eval/.test(csp));
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
    }
    const page = await get('/dashboard/', bearer);
    assert.ok(
      !/<script>|<style>| style=| on[a-z]+=/i.test(page.text),
      'no inline script, style or handler in the page',
    );
  });

  it('snapshot: the cluster lists and the health windows, one page of pods', async () => {
    const r = await get('/dashboard/api/snapshot?pageSize=5', bearer);
    const s = JSON.parse(r.text) as DashboardSnapshot;
    assert.deepEqual(
      s.sources.items.map((x) => x.name),
      ['fleet'],
    );
    assert.deepEqual(
      s.pods.items.map((p) => [p.pod, p.state]),
      [['<script>x</script>', 'Failing']],
    );
    assert.equal(s.pods.pageSize, 5);
    assert.ok(
      apiCalls.some((c) => c === '/apis/bulkhead.dev/v1alpha1/quarantines?limit=500'),
      'lists are limited',
    );
  });

  it('a list the engine may not read shows as an error in its section, and the rest still shows', async () => {
    forbidQuarantines = true;
    try {
      const s = JSON.parse((await get('/dashboard/api/snapshot', bearer)).text) as DashboardSnapshot;
      assert.match(s.quarantines.error ?? '', /may not list quarantines/);
      assert.equal(s.sources.items.length, 1);
      assert.match(await registry.metrics(), /bulkhead_dashboard_list_errors_total\{resource="quarantines"\} [1-9]/);
    } finally {
      forbidQuarantines = false;
    }
  });

  it('timeline per pod by uid; missing (200) for a pod without data, 400 without uid', async () => {
    const t = JSON.parse((await get('/dashboard/api/timeline?uid=u-1', bearer)).text) as Timeline;
    assert.equal(t.points.length, 1);
    assert.equal(t.failures, 1);
    const none = await get('/dashboard/api/timeline?uid=nope', bearer);
    assert.equal(none.status, 200);
    assert.match(none.text, /"missing":true/);
    assert.equal((await get('/dashboard/api/timeline', bearer)).status, 400);
  });

  it('counts requests by route and code', async () => {
    await get('/dashboard/API/Snapshot', bearer);
    const m = await registry.metrics();
    assert.match(m, /bulkhead_dashboard_requests_total\{route="api\/snapshot",code="401"\} [1-9]/);
    assert.ok(!/route="[^"]*(API|Snapshot)/.test(m), 'labels are route names, never request paths');
  });
});
