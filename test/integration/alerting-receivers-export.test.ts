// The tools users already run, against a real engine process (bulkhead run, as its
// ServiceAccount under exactly deploy/rbac): a real Alertmanager (built from Go modules,
// local-cluster/build-alerting.sh) routes an alert naming a pod to the engine's receiver over
// HTTPS with a bearer ServiceAccount token → the pod is quarantined within the policy's budget
// and its record is committed to git; unauthenticated and unauthorized receiver calls are
// refused and change nothing; a Falcosidekick-shaped event does the same as the alert; a real
// Prometheus scrapes the exported health series over HTTPS with a bearer token, and a query
// through its HTTP API returns the failing pod's series (a real sidecar process reports it).
import { strict as assert } from 'node:assert';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { WEBHOOK_NAMES } from '../../engine/src/admission/index.js';
import { LABEL } from '../../engine/src/core/api/index.js';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { freePorts, mintServiceAccountToken } from '../../tools/local-cluster/index.js';
import { installEngineRbac, startEngineProcess, type EngineProcess } from '../harness/engine-process.js';
import { createTestRepo, git, type TestRepo } from '../harness/git-repo.js';
import { eventually, getCluster, newNamespace, registerLogFile } from '../harness/index.js';
import { deleteWebhookConfigs, waitUntilInjecting } from './support/admission-harness.js';
import { runDeployment } from './support/quarantine-fixtures.js';
import {
  createPod,
  httpsCall,
  killAll,
  podToken,
  quickSidecarEnv,
  readerToken,
  startApp,
  startSidecar,
} from './support/observe-processes.js';

const run = promisify(execFile);

/** A plain-HTTP call to a local tool (Alertmanager's and Prometheus's own APIs listen on loopback). */
function httpCall(url: string, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = request(url, { method, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

interface Quarantine {
  metadata: { name: string; uid: string };
  spec: { pod: { name: string }; reason: string; message?: string; recordPath?: string };
  status?: { phase?: string; recordCommit?: string };
}

describe('Alertmanager, Falcosidekick and Prometheus against the running engine (real processes)', function () {
  this.timeout(240_000);
  let ns: string;
  let appNs: string;
  let admin: KubeClient;
  let engine: EngineProcess;
  let repo: TestRepo;
  let dataPlane: string;
  let ca: string;
  let dir: string;
  let analyzer: string;
  let amUrl = '';
  let promUrl = '';
  const tools: ChildProcess[] = [];
  let shop: string[];
  const policyName = (): string => `${ns}-hp`;
  const core = () => getCluster().kubeConfig().makeApiClient(CoreV1Api);

  const quarantines = async (): Promise<Quarantine[]> =>
    (
      await admin.request<{ items: Quarantine[] }>({
        method: 'GET',
        path: `/apis/bulkhead.dev/v1alpha1/namespaces/${appNs}/quarantines`,
      })
    ).items;
  const quarantined = async (pod: string): Promise<boolean> =>
    (await core().readNamespacedPod({ namespace: appNs, name: pod })).metadata?.labels?.[LABEL.quarantined] === 'true';

  async function startTool(name: string, bin: string, args: string[]): Promise<void> {
    const log = join(dir, `${name}.log`);
    registerLogFile(name, log);
    const out = createWriteStream(log);
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    tools.push(child);
  }

  before(async () => {
    admin = new KubeClient(getCluster().kubeConfig());
    ns = await newNamespace('alerting');
    appNs = await newNamespace('alerting-app');
    dir = await mkdtemp(join(tmpdir(), 'bulkhead-alerting-'));
    // Real Alertmanager and Prometheus, from Go modules (cached; built once per machine).
    const built = await run('bash', ['local-cluster/build-alerting.sh'], { maxBuffer: 1 << 20, timeout: 1_800_000 });
    const bins = Object.fromEntries(
      built.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('=') as [string, string]),
    );
    const { kubeconfigPath } = await installEngineRbac(ns);
    // Before the engine starts: once it runs, its GitOps guard refuses a policy not from git.
    await admin.request({
      method: 'POST',
      path: '/apis/bulkhead.dev/v1alpha1/healthpolicies',
      body: {
        apiVersion: 'bulkhead.dev/v1alpha1',
        kind: 'HealthPolicy',
        metadata: { name: policyName() },
        spec: {
          match: { namespaces: [appNs], selector: { matchLabels: { app: 'shop' } } },
          probe: { http: { path: '/health', port: 8080 } },
          detect: { rules: [{ type: 'ConsecutiveFailures', threshold: 3 }] },
          action: { type: 'Quarantine', budget: { maxUnavailable: 2, maxPerNamespacePerHour: 1000 } },
        },
      },
    });
    repo = await createTestRepo('bh-alerting-');
    await repo.commit({ 'README.md': 'policy repo\n' }, 'initial');
    engine = await startEngineProcess({
      name: `${ns}-a`,
      kubeconfigPath,
      namespace: ns,
      args: [
        '--https',
        '127.0.0.1:0',
        '--webhook-url',
        'listen',
        '--records-repo',
        repo.url,
        '--cluster-name',
        'alerting',
      ],
    });
    dataPlane = (await engine.logLines()).find((l) => l.msg === 'engine started')!.dataPlaneUrl as string;
    const tls = await admin.request<{ data: Record<string, string> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/secrets/bulkhead-webhook-tls`,
    });
    ca = Buffer.from(tls.data['ca.crt']!, 'base64').toString('utf8');
    await writeFile(join(dir, 'ca.crt'), ca);
    // Pods created once the engine's admission injects them (the policy path takes effect on
    // the apiserver's next policy refresh): injection writes the injecting policy on them.
    await waitUntilInjecting(
      getCluster().kubeConfig().makeApiClient(CoreV1Api),
      appNs,
      { app: 'shop' },
      { dryRun: true },
    );
    shop = (await runDeployment(getCluster().kubeConfig(), appNs, 'shop', 3)).map((p) => p.metadata!.name!);

    // The identity Alertmanager and Falcosidekick run as: may create quarantines in the app namespace.
    const rbac = getCluster().kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: appNs,
      body: {
        metadata: { name: 'verdicts' },
        rules: [{ apiGroups: ['bulkhead.dev'], resources: ['quarantines'], verbs: ['create'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: appNs,
      body: {
        metadata: { name: 'verdicts' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'verdicts' },
        subjects: [{ kind: 'ServiceAccount', name: 'alertmanager', namespace: appNs }],
      },
    });
    analyzer = await mintServiceAccountToken(getCluster().kubeConfig(), appNs, 'alertmanager', {
      audiences: ['bulkhead'],
    });
    await writeFile(join(dir, 'alertmanager.token'), analyzer);
    // Prometheus's identity: may get pods in the app namespace (the health read rule).
    await writeFile(join(dir, 'prometheus.token'), await readerToken(appNs));

    const [amPort, promPort] = await freePorts(2);
    const dp = new URL(dataPlane);
    await writeFile(
      join(dir, 'alertmanager.yml'),
      [
        'route: { receiver: bulkhead, group_by: [namespace, pod], group_wait: 0s, group_interval: 1s, repeat_interval: 1h }',
        'receivers:',
        '  - name: bulkhead',
        '    webhook_configs:',
        `      - url: ${dataPlane}/api/v1/receivers/alertmanager`,
        '        send_resolved: false',
        '        max_alerts: 100',
        '        http_config:',
        `          authorization: { credentials_file: ${join(dir, 'alertmanager.token')} }`,
        `          tls_config: { ca_file: ${join(dir, 'ca.crt')} }`,
        '',
      ].join('\n'),
    );
    await startTool('alertmanager', bins.alertmanager!, [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'am-data')}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=',
    ]);
    await writeFile(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, scrape_timeout: 1s }',
        'scrape_configs:',
        '  - job_name: bulkhead-health',
        '    scheme: https',
        '    metrics_path: /api/v1/health/metrics',
        `    params: { namespace: [${appNs}] }`,
        `    authorization: { credentials_file: ${join(dir, 'prometheus.token')} }`,
        `    tls_config: { ca_file: ${join(dir, 'ca.crt')} }`,
        `    static_configs: [{ targets: ['${dp.host}'] }]`,
        '',
      ].join('\n'),
    );
    await startTool('prometheus', bins.prometheus!, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'prom-data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ]);
    amUrl = `http://127.0.0.1:${amPort}`;
    promUrl = `http://127.0.0.1:${promPort}`;
    await eventually(async () => assert.equal((await httpCall(`${amUrl}/-/ready`)).status, 200), {
      what: 'Alertmanager ready',
      timeoutMs: 60_000,
    });
  });

  after(async () => {
    await killAll();
    for (const t of tools)
      if (t.exitCode === null && t.signalCode === null) {
        t.kill('SIGTERM');
        await once(t, 'exit');
      }
    await engine?.stop();
    // Both admission paths (the engine registers policies with --admission auto).
    await deleteWebhookConfigs(getCluster().kubeConfig(), WEBHOOK_NAMES);
    await admin
      ?.request({ method: 'DELETE', path: `/apis/bulkhead.dev/v1alpha1/healthpolicies/${policyName()}` })
      .catch(() => {});
    admin?.close();
    await repo?.remove();
  });

  const receiver = (path: string, body: unknown, token?: string) =>
    httpsCall(`${dataPlane}${path}`, { ca, method: 'POST', body: JSON.stringify(body), ...(token ? { token } : {}) });
  const notification = (pod: string) => ({
    version: '4',
    status: 'firing',
    receiver: 'bulkhead',
    alerts: [
      { status: 'firing', labels: { alertname: 'KubePodCrashLooping', namespace: appNs, pod }, annotations: {} },
    ],
  });

  it('unauthenticated and unauthorized receiver calls are refused and change nothing', async () => {
    const target = shop[2]!;
    const falco = {
      rule: 'Terminal shell in container',
      priority: 'Critical',
      output_fields: { 'k8s.ns.name': appNs, 'k8s.pod.name': target },
    };
    assert.equal((await receiver('/api/v1/receivers/alertmanager', notification(target))).status, 401);
    assert.equal((await receiver('/api/v1/receivers/falcosidekick', falco)).status, 401);
    const wrongAudience = await mintServiceAccountToken(getCluster().kubeConfig(), appNs, 'alertmanager', {
      audiences: ['not-bulkhead'],
    });
    assert.equal((await receiver('/api/v1/receivers/alertmanager', notification(target), wrongAudience)).status, 401);
    // Authenticated, but no RBAC to create quarantines in the namespace.
    const stranger = await mintServiceAccountToken(getCluster().kubeConfig(), appNs, 'stranger', {
      audiences: ['bulkhead'],
    });
    const am = await receiver('/api/v1/receivers/alertmanager', notification(target), stranger);
    assert.equal(am.status, 403, am.body);
    assert.match(am.body, /may not create quarantines\.bulkhead\.dev/);
    assert.equal((await receiver('/api/v1/receivers/falcosidekick', falco, stranger)).status, 403);
    assert.deepEqual(await quarantines(), []);
    assert.equal(await quarantined(target), false);
    assert.ok(!(await engine.log()).includes('external verdict accepted'));
  });

  it('a real Alertmanager routes an alert naming a pod → the pod is quarantined within budget and its record is in git', async () => {
    const target = shop[0]!;
    const posted = await httpCall(
      `${amUrl}/api/v2/alerts`,
      'POST',
      JSON.stringify([
        {
          labels: { alertname: 'KubePodCrashLooping', namespace: appNs, pod: target, severity: 'critical' },
          annotations: { summary: 'container app restarted 5 times in 10 minutes' },
          generatorURL: 'http://prometheus.invalid/graph',
        },
      ]),
    );
    assert.equal(posted.status, 200, posted.body);
    const q = await eventually(
      async () => {
        const found = (await quarantines()).find((x) => x.spec.pod.name === target);
        assert.equal(found?.status?.phase, 'Isolated', JSON.stringify(found));
        return found!;
      },
      { what: `${target} quarantined from the Alertmanager notification`, timeoutMs: 90_000 },
    );
    assert.equal(q.spec.reason, 'External');
    assert.match(q.spec.message ?? '', /KubePodCrashLooping: container app restarted 5 times/);
    assert.match(
      q.spec.message ?? '',
      new RegExp(`verdict from system:serviceaccount:${appNs}:alertmanager via alertmanager`),
    );
    assert.equal(await quarantined(target), true);
    // Audited: the record is committed to the records repository.
    await eventually(
      async () => {
        const fresh = (await quarantines()).find((x) => x.metadata.uid === q.metadata.uid)!;
        assert.ok(fresh.spec.recordPath, 'record path set');
        const text = (await git(repo.bareDir, 'show', `main:${fresh.spec.recordPath}`)).toString();
        assert.match(text, new RegExp(q.metadata.uid));
      },
      { what: 'quarantine record committed', timeoutMs: 60_000 },
    );
  });

  it('a Falcosidekick event (authenticated) quarantines its pod; past the budget a third pod is left alone', async () => {
    const target = shop[1]!;
    const r = await receiver(
      '/api/v1/receivers/falcosidekick',
      {
        uuid: '0b7c1e7a-1111-4111-8111-111111111111',
        output: 'A shell was spawned in a container with an attached terminal (user=root shell=sh)',
        priority: 'Critical',
        rule: 'Terminal shell in container',
        time: new Date().toISOString(),
        source: 'syscall',
        hostname: 'node-1',
        tags: ['container', 'shell'],
        output_fields: { 'k8s.ns.name': appNs, 'k8s.pod.name': target, 'proc.cmdline': 'sh -i' },
      },
      analyzer,
    );
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json<{ results: { outcome: string }[] }>().results[0]?.outcome, 'accepted');
    const q = await eventually(
      async () => {
        const found = (await quarantines()).find((x) => x.spec.pod.name === target);
        assert.equal(found?.status?.phase, 'Isolated', JSON.stringify(found));
        return found!;
      },
      { what: `${target} quarantined from the Falco event`, timeoutMs: 90_000 },
    );
    assert.match(q.spec.message ?? '', /Falco critical: Terminal shell in container/);
    // maxUnavailable 2 is spent: an alert about the third pod is accepted but not acted on.
    const third = await receiver('/api/v1/receivers/alertmanager', notification(shop[2]!), analyzer);
    assert.equal(third.status, 200, third.body);
    // Held back by the budget: carried out as an Alert, with an Event on the pod that says so.
    const heldBack = `${appNs}/${shop[2]}:Alert:done`;
    await eventually(
      async () => {
        assert.ok(
          (await engine.logLines()).some(
            (l) => l.msg === 'verdict carried out' && (l.taken as string[] | undefined)?.includes(heldBack),
          ),
          heldBack,
        );
        const events = await core().listNamespacedEvent({
          namespace: appNs,
          fieldSelector: `involvedObject.name=${shop[2]}`,
        });
        assert.ok(
          events.items.some((e) => e.reason === 'WorkloadBudgetExhausted'),
          'WorkloadBudgetExhausted Event on the pod',
        );
      },
      { what: 'the third verdict held back by the budget', timeoutMs: 30_000 },
    );
    assert.equal(await quarantined(shop[2]!), false);
    assert.equal((await quarantines()).filter((x) => x.status?.phase === 'Isolated').length, 2);
  });

  it("a real Prometheus scrapes the health series over HTTPS with a bearer token; a query returns the failing pod's series", async () => {
    const app = await startApp('alerting-app');
    const pod = await createPod(appNs, 'web-1');
    await startSidecar(
      pod,
      await podToken(pod),
      quickSidecarEnv(app.port, `${dataPlane}/api/v1/reports`, join(dir, 'ca.crt')),
      'alerting-sidecar',
    );
    await app.setMode('fail');
    const series = await eventually(
      async () => {
        const q = encodeURIComponent(`bulkhead_pod_probe_up{namespace="${appNs}",pod="web-1"}`);
        const r = await httpCall(`${promUrl}/api/v1/query?query=${q}`);
        assert.equal(r.status, 200, r.body);
        const result = (
          JSON.parse(r.body) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }
        ).data.result;
        assert.equal(result.length, 1, r.body);
        assert.equal(result[0]!.value[1], '0', 'the failing probe is exported as down');
        return result[0]!;
      },
      { what: "Prometheus has the failing pod's series", timeoutMs: 90_000 },
    );
    assert.equal(series.metric.job, 'bulkhead-health');
    const failed = encodeURIComponent(
      `bulkhead_pod_probe_samples{namespace="${appNs}",pod="web-1",result="failed"} > 0`,
    );
    const f = JSON.parse((await httpCall(`${promUrl}/api/v1/query?query=${failed}`)).body) as {
      data: { result: unknown[] };
    };
    assert.equal(f.data.result.length, 1);
    // The scrape target is up: TLS verified with the engine's CA, the token accepted.
    const up = JSON.parse(
      (await httpCall(`${promUrl}/api/v1/query?query=${encodeURIComponent('up{job="bulkhead-health"}')}`)).body,
    ) as { data: { result: { value: [number, string] }[] } };
    assert.equal(up.data.result[0]?.value[1], '1');
  });
});
