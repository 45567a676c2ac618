// The dashboard in a real browser: Debian's Chromium driven by playwright-core opens the page
// served by the dashboard router, against the real control plane (a real Deployment on kwok
// nodes, a real quarantine made by the quarantine stage, HealthPolicy and PolicySource CRs with
// status) and a real HealthStore filled with sidecar reports.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import Koa from 'koa';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { decide } from '../../engine/src/analytics/decide.js';
import { groupIncidents } from '../../engine/src/analytics/grouping.js';
import type { HealthPolicy, PolicySource } from '../../engine/src/core/api/index.js';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { EventRecorder } from '../../engine/src/core/kube/events.js';
import { ResourceResolver } from '../../engine/src/core/kube/resources.js';
import { silentLogger } from '../../engine/src/core/logger.js';
import { createDashboardRouter } from '../../engine/src/dashboard/index.js';
import { HealthStore } from '../../engine/src/observe/index.js';
import { type HealthSample } from '../../engine/src/observe/report.js';
import { executeVerdict, listQuarantines, type QuarantineDeps } from '../../engine/src/quarantine/index.js';
import { eventually, getCluster, newNamespace, registerLogFile } from '../harness/index.js';
import { failingSignal, healthOf, runDeployment } from './support/quarantine-fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join('test-artifacts', 'dashboard');
const HOSTILE_POD = '<script>globalThis.__pwned=1</script>';
const HOSTILE_MESSAGE = '3 consecutive probe failures <img src=x onerror="globalThis.__pwned=2">';

const G = { group: 'bulkhead.dev', version: 'v1alpha1' };

/** Samples every 5 s over the last `n × 5` seconds; the last `failing` ones time out. */
function samples(n: number, failing: number, now = Date.now()): HealthSample[] {
  return Array.from({ length: n }, (_, i) => {
    const bad = i >= n - failing;
    return {
      seq: i + 1,
      time: new Date(now - (n - 1 - i) * 5_000).toISOString(),
      probe: bad
        ? { type: 'http' as const, ok: false, latencyMs: 2000, error: 'Timeout' as const }
        : { type: 'http' as const, ok: true, latencyMs: 8 + ((i * 7) % 30), status: 200 },
    };
  });
}

/** What the engine's summarizers do: a merge patch of the /status subresource. */
const patchStatus = (client: KubeClient, plural: string, name: string, body: unknown): Promise<unknown> =>
  client.request({
    method: 'PATCH',
    path: `/apis/bulkhead.dev/v1alpha1/${plural}/${name}/status`,
    contentType: 'application/merge-patch+json',
    body,
  });

describe('dashboard (real control plane, Chromium)', function () {
  this.timeout(120_000);
  let kc: KubeConfig;
  let ns: string;
  let pods: V1Pod[];
  let store: HealthStore;
  let server: Server;
  let base: string;
  let browser: Browser;
  let token: string;
  let logPath: string;
  let policyName: string;
  let victimUid: string;
  let quarantineName: string;
  let deps: QuarantineDeps;
  const pageErrors: string[] = [];

  before(async () => {
    kc = getCluster().kubeConfig();
    ns = await newNamespace('dash');
    policyName = `dash-${ns}`;
    const custom = kc.makeApiClient(CustomObjectsApi);
    const client = new KubeClient(kc);
    const logger = silentLogger();
    deps = {
      client,
      resolver: new ResourceResolver(client),
      events: new EventRecorder(client, { component: 'bulkhead', instance: 'test', logger }),
      logger,
      now: () => new Date(),
      cluster: 'test',
      protectedNamespaces: new Set(['bulkhead-system']),
    };

    // A HealthPolicy and a PolicySource as the engine would leave them (status via /status).
    const policy: HealthPolicy = {
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'HealthPolicy',
      metadata: { name: policyName },
      spec: {
        match: { namespaces: [ns], selector: { matchLabels: { team: 'shop' } } },
        probe: { http: { path: '/healthz', port: 8080 } },
        detect: { rules: [{ type: 'ConsecutiveFailures', threshold: 3 }] },
        action: { type: 'Quarantine', budget: { maxUnavailable: '50%' } },
      },
    };
    await custom.createClusterCustomObject({ ...G, plural: 'healthpolicies', body: policy });
    const now = new Date().toISOString();
    await patchStatus(client, 'healthpolicies', policyName, {
      status: {
        matchedPods: 2,
        sourceRevision: 'main@' + 'a'.repeat(40),
        budget: { quarantined: 1, exhausted: false },
        conditions: [{ type: 'Ready', status: 'True', reason: 'Applied', message: 'applied', lastTransitionTime: now }],
      },
    });
    const source: PolicySource = {
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'PolicySource',
      metadata: { name: policyName },
      spec: { url: 'https://git.example.com/platform/policies.git', ref: { branch: 'main' } },
    };
    await custom.createClusterCustomObject({ ...G, plural: 'policysources', body: source });
    await patchStatus(client, 'policysources', policyName, {
      status: {
        lastAppliedRevision: 'main@' + 'a'.repeat(40),
        lastAttemptedRevision: 'main@' + 'b'.repeat(40),
        policies: 1,
        validationErrors: [
          {
            file: 'policies/web.yaml',
            line: 12,
            column: 7,
            code: 'BH_INVALID_VALUE',
            message: 'action.type must be one of Quarantine, Isolate, Restart, Alert',
          },
        ],
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'Applied',
            message: 'main@aaaaaaaaaaaa still applied',
            lastTransitionTime: now,
          },
          {
            type: 'Stalled',
            status: 'True',
            reason: 'ValidationFailed',
            message: 'revision main@bbbbbbbbbbbb rejected: 1 error',
            lastTransitionTime: now,
          },
        ],
      },
    });

    // Two real pods; the quarantine stage quarantines one of them for real.
    pods = await runDeployment(kc, ns, 'shop', 2);
    const victim = healthOf(pods[0]!);
    victimUid = victim.uid;
    const signal = { ...failingSignal(victim), message: HOSTILE_MESSAGE };
    const [incident] = groupIncidents([{ pod: victim, signals: [signal] }]);
    const result = await executeVerdict(
      deps,
      decide(
        incident!,
        policy,
        pods.map((p) => healthOf(p)),
      ),
    );
    assert.equal(result.taken[0]?.outcome, 'done');
    const [q] = await listQuarantines(deps.client, deps.resolver, ns);
    quarantineName = q!.metadata.name!;

    // The health windows the sidecars would have filled.
    store = new HealthStore();
    const ref = (p: V1Pod) => ({ namespace: ns, name: p.metadata!.name!, uid: p.metadata!.uid! });
    store.addReport({
      pod: ref(pods[0]!),
      sidecar: { version: '0.1.0', instance: 'a' },
      dropped: 0,
      samples: samples(60, 4),
    });
    store.addEvent(ref(pods[0]!), {
      time: new Date(Date.now() - 90_000).toISOString(),
      type: 'Restarted',
      container: 'app',
      restartCount: 1,
      exitCode: 137,
    });
    store.addReport({
      pod: ref(pods[1]!),
      sidecar: { version: '0.1.0', instance: 'b' },
      dropped: 0,
      samples: samples(60, 0),
    });
    // The policy the engine judged them by (from the cluster, never from the report: ADR 1400).
    for (const p of pods.slice(0, 2)) store.setPolicy(p.metadata!.uid!, policyName);
    store.addReport({
      pod: { namespace: ns, name: HOSTILE_POD, uid: 'hostile-uid' },
      sidecar: { version: '0.1.0', instance: 'c' },
      dropped: 0,
      samples: samples(10, 0),
    });

    // The router on a koa server, as the engine mounts it; its log goes to a file for the failure dump.
    token = randomBytes(24).toString('base64url');
    logPath = join(tmpdir(), `bulkhead-dashboard-${ns}.log`);
    registerLogFile('dashboard', logPath);
    const fileLogger = pino({ level: 'debug' }, pino.destination({ dest: logPath, sync: true }));
    const router = createDashboardRouter({ client, store, token, logger: fileLogger });
    const app = new Koa();
    app.use(router.routes()).use(router.allowedMethods());
    server = createServer(app.callback());
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    await eventually(() => assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is installed`), {
      timeoutMs: 60_000,
      intervalMs: 1000,
      what: 'Debian chromium',
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--headless',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    await mkdir(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    server?.close();
    const custom = kc.makeApiClient(CustomObjectsApi);
    for (const plural of ['healthpolicies', 'policysources'])
      await custom.deleteClusterCustomObject({ ...G, plural, name: policyName }).catch(() => undefined);
  });

  const newPage = async (): Promise<Page> => {
    pageErrors.length = 0;
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    return page;
  };

  it('refuses the page and the API without the token (401)', async () => {
    const page = await newPage();
    try {
      const res = await page.goto(`${base}/dashboard/`);
      assert.equal(res?.status(), 401);
      assert.match((await page.textContent('body')) ?? '', /Unauthorized/);
      const api = await page.request.get(`${base}/dashboard/api/snapshot`);
      assert.equal(api.status(), 401);
      assert.equal((await page.goto(`${base}/dashboard/?token=not-the-token`))?.status(), 401);
      assert.equal((await page.context().cookies()).length, 0, 'no session without the right token');
    } finally {
      await page.context().close();
    }
  });

  it('opens with ?token=, shows the quarantined pod with reason, audit and chart, renders hostile names as text, and updates live', async () => {
    const page = await newPage();
    try {
      await page.goto(`${base}/dashboard/?token=${encodeURIComponent(token)}`);
      assert.equal(page.url(), `${base}/dashboard/`, 'the token is dropped from the URL');
      const [cookie] = await page.context().cookies();
      assert.equal(cookie?.name, 'bulkhead_dashboard');
      assert.equal(cookie?.httpOnly, true);
      assert.equal(cookie?.sameSite, 'Strict');
      assert.notEqual(cookie?.value, token);

      // The quarantined pod: reason, phase, audit state, and its chart with data points.
      const card = page.locator(`.qcard[data-uid="${victimUid}"]`);
      await eventually(
        async () => {
          const t = (await card.textContent({ timeout: 1000 })) ?? '';
          assert.ok(t.includes(`${ns}/${pods[0]!.metadata!.name!}`), t);
          assert.ok(t.includes('ConsecutiveFailures'), t);
          assert.ok(t.includes('Isolated'), t);
          assert.match(t, /audit\s*Pending/);
        },
        { what: 'quarantine card' },
      );
      const chart = card.locator('svg.chart');
      await eventually(
        async () => {
          assert.equal(await chart.getAttribute('data-points', { timeout: 1000 }), '60');
          assert.equal(await chart.getAttribute('data-failures'), '4');
          assert.equal(await chart.locator('circle').count(), 60);
          assert.equal(await chart.locator('circle.pt-fail').count(), 4);
          assert.equal(await chart.locator('polyline.lat').count(), 1);
          assert.equal(await chart.locator('line.ev title').textContent(), 'Restarted · app · exit 137 · restarts 1');
        },
        { what: 'the quarantined pod’s chart' },
      );

      // Policy, source (with the rejected revision's error) and the pod list are there too.
      await eventually(
        async () => {
          assert.match(
            (await page.locator(`tr[data-policy="${policyName}"]`).textContent({ timeout: 1000 })) ?? '',
            /Quarantine.*Ready.*2/s,
          );
          const src = (await page.locator(`tr[data-source="${policyName}"]`).textContent()) ?? '';
          assert.match(src, /Stalled/);
          assert.match(src, /rejected/);
          assert.match(src, /1 error\(s\) in the rejected revision/);
          assert.match(src, /policies\/web\.yaml:12:7 BH_INVALID_VALUE action\.type must be one of/);
          assert.equal(
            await page.locator(`.pod-row[data-uid="${victimUid}"] svg.chart`).getAttribute('data-points'),
            '60',
          );
        },
        { what: 'policies, sources and pods' },
      );

      // Attacker-influenced strings are text, never markup.
      await eventually(
        async () => {
          const hostile = page.locator('.pod-row[data-uid="hostile-uid"] .podname');
          assert.equal(await hostile.textContent({ timeout: 1000 }), HOSTILE_POD);
          assert.equal(await card.locator('.qmessage').textContent(), HOSTILE_MESSAGE);
        },
        { what: 'hostile strings rendered' },
      );
      assert.equal(await page.locator('main img').count(), 0);
      assert.equal(await page.locator('script').count(), 1, 'only app.js');
      assert.equal(await page.evaluate(() => (globalThis as Record<string, unknown>).__pwned), undefined);

      // Live: the audit commit lands and more reports arrive; the open page follows without a reload.
      const [q] = await listQuarantines(deps.client, deps.resolver, ns);
      const sha = 'c0ffee'.padEnd(40, '0');
      await deps.client.request({
        method: 'PATCH',
        path: `/apis/bulkhead.dev/v1alpha1/namespaces/${ns}/quarantines/${quarantineName}/status`,
        contentType: 'application/merge-patch+json',
        body: { status: { audit: { state: 'Committed', commit: sha, path: q!.spec.recordPath } } },
      });
      store.addReport({
        pod: { namespace: ns, name: pods[0]!.metadata!.name!, uid: victimUid },
        sidecar: { version: '0.1.0', instance: 'a' },
        dropped: 0,
        samples: [
          {
            seq: 61,
            time: new Date().toISOString(),
            probe: { type: 'http', ok: false, latencyMs: 2000, error: 'Timeout' },
          },
        ],
      });
      await eventually(
        async () => {
          assert.match(
            (await card.locator('.qaudit').textContent({ timeout: 1000 })) ?? '',
            /Committed\s*c0ffee000000/,
          );
          assert.equal(await chart.getAttribute('data-failures'), '5');
        },
        { what: 'live update of audit and chart', timeoutMs: 15_000 },
      );
      await eventually(async () => assert.match((await page.locator('#live').textContent()) ?? '', /^live · updated/));

      // The evidence, opened by the viewer, stays open across live refreshes.
      await card.locator('summary', { hasText: 'Evidence' }).click();
      const generated = await page.locator('body').getAttribute('data-generated-at');
      await eventually(
        async () => {
          assert.notEqual(await page.locator('body').getAttribute('data-generated-at'), generated, 'refreshed since');
          const ev = await card.locator('.evdetail').allTextContents();
          assert.equal(ev.length, 3);
          assert.ok(
            ev.every((d) => d === 'ConsecutiveFailures: probe failed Timeout'),
            ev.join(' | '),
          );
        },
        { what: 'evidence open after a refresh' },
      );

      const shot = join(ARTIFACTS, 'quarantined-pod.png');
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok(existsSync(shot));

      // The pod list is filtered on the server (one page at a time, whatever the number of pods).
      await page.fill('#filter', 'script');
      await eventually(
        async () => {
          assert.deepEqual(
            await page.locator('.pod-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-uid'))),
            ['hostile-uid'],
          );
          assert.match((await page.locator('#pageinfo').textContent()) ?? '', /page 1 of 1 · 1 pods/);
        },
        { what: 'filtered pod list' },
      );
      await page.fill('#filter', '');
      await eventually(async () => assert.equal(await page.locator('.pod-row').count(), 3), {
        what: 'unfiltered pod list',
      });
      assert.deepEqual(pageErrors, [], 'no script error and no CSP violation in the page');
    } finally {
      await page.context().close();
    }
  });

  it('never writes the token to its log', async () => {
    const log = await readFile(logPath, 'utf8');
    assert.match(log, /dashboard: unauthorized/, 'the refusals were logged');
    assert.ok(!log.includes(token));
  });
});
