// A compromised pod and a verdict caller cannot pick the policy that judges a pod (issue 14,
// ADR 1400/1401). The engine's data plane in-process as start-data-plane wires it (observe's
// report ingest and the verdict API on one HTTPS server, the quarantine pipeline with its audit
// outbox to a real bare repository), running as its ServiceAccount with exactly deploy/rbac;
// the real injection webhook writes the pods' annotations; real sidecar processes report over
// HTTPS with pod-bound tokens (TokenReview on the real apiserver). Then a fuzz of report and
// verdict bodies against the same handlers: no 5xx, and a refused request changes nothing.
// The same running engine is fed scripted faults (issue 18): a pod framing its sibling trips
// IdentityRejected; a hang, an error burst and slow answers each trip the detector meant for
// them, beside a healthy sibling that is never quarantined.
import { strict as assert } from 'node:assert';
import { writeFile } from 'node:fs/promises';
import { Agent, createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1Pod } from '@kubernetes/client-node';
import fc from 'fast-check';
import Koa from 'koa';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { injectedSidecar, type InjectablePolicy } from '../../engine/src/admission/index.js';
import { recordUid } from '../../engine/src/audit/record-document.js';
import { LABEL, type HealthPolicy, type Quarantine } from '../../engine/src/core/api/index.js';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { EventRecorder } from '../../engine/src/core/kube/events.js';
import { ResourceResolver } from '../../engine/src/core/kube/resources.js';
import { createCertificateAuthority, issueCertificate } from '../../engine/src/core/pki.js';
import { createObserve, type Observe } from '../../engine/src/observe/index.js';
import { listQuarantines } from '../../engine/src/quarantine/index.js';
import { startQuarantinePipeline, type QuarantinePipeline } from '../../engine/src/runtime/quarantine-pipeline.js';
import { mintServiceAccountToken } from '../../tools/local-cluster/index.js';
import { installEngineRbac } from '../harness/engine-process.js';
import { createTestRepo, git, HERMETIC_GIT_ENV, type TestRepo } from '../harness/git-repo.js';
import { eventually, getCluster, newNamespace, registerLogFile } from '../harness/index.js';
import { simplePod, startTestAdmission, waitUntilInjecting, type TestAdmission } from './support/admission-harness.js';
import {
  killAll,
  podToken,
  quickSidecarEnv,
  startApp,
  startSidecar,
  type TestPod,
} from './support/observe-processes.js';

const hp = (name: string, namespace: string, app: string, mode: 'Enforce' | 'DryRun'): HealthPolicy => ({
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name },
  spec: {
    match: { namespaces: [namespace], selector: { matchLabels: { app } } },
    probe: { http: { path: '/health', port: 8080 } },
    detect: { rules: [{ type: 'ConsecutiveFailures', threshold: 3 }] },
    action: { type: 'Quarantine', mode, budget: { maxUnavailable: 1, maxPerNamespacePerHour: 1000 } },
  },
});

/**
 * A policy for the probe faults: each rule is the detector meant for one fault (a hang times
 * the probes out, an error burst never fails three in a row, slow answers never fail).
 */
const faultsPolicy = (name: string, namespace: string): HealthPolicy => ({
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name },
  spec: {
    match: { namespaces: [namespace], selector: { matchLabels: { app: 'faults' } } },
    probe: { http: { path: '/health', port: 8080 }, interval: '1s', timeout: '1s' },
    detect: {
      rules: [
        { type: 'ConsecutiveFailures', threshold: 3 },
        { type: 'ErrorRate', ratio: 0.5, window: '10s', minSamples: 6 },
        { type: 'LatencyP99', latency: '300ms', window: '5s', minSamples: 4 },
      ],
    },
    action: { type: 'Quarantine', mode: 'Enforce', budget: { maxUnavailable: 1, maxPerNamespacePerHour: 1000 } },
  },
});

describe('hostile reports and verdicts: the policy that judges a pod comes from the cluster', function () {
  this.timeout(180_000);
  let engineNs: string;
  let ns: string;
  let engineKc: KubeConfig;
  let hook: TestAdmission;
  let observe: Observe;
  let pipeline: QuarantinePipeline;
  let server: Server;
  let base: string;
  let ca: string;
  let caPath: string;
  let repo: TestRepo;
  let analyzer: string;
  const policies = new Map<string, HealthPolicy>();
  const enforce = (): string => `${ns}-enforce`;
  const dryRun = (): string => `${ns}-dryrun`;
  const faults = (): string => `${ns}-faults`;
  const core = () => getCluster().kubeConfig().makeApiClient(CoreV1Api);
  const admin = () => new KubeClient(getCluster().kubeConfig());

  before(async () => {
    engineNs = await newNamespace('hostile-eng');
    ns = await newNamespace('hostile');
    const { kubeconfigPath, serviceAccount } = await installEngineRbac(engineNs);
    engineKc = new KubeConfig();
    engineKc.loadFromFile(kubeconfigPath);
    for (const p of [
      hp(enforce(), ns, 'shop', 'Enforce'),
      hp(dryRun(), ns, 'blog', 'DryRun'),
      faultsPolicy(faults(), ns),
    ])
      policies.set(p.metadata.name, p);
    // The real injection webhook: it writes bulkhead.dev/injected on the pods the policies select.
    hook = await startTestAdmission({
      engineNamespace: engineNs,
      // Its guard lets the engine (this ServiceAccount) write Quarantines, and nobody else.
      engineUsernames: [`system:serviceaccount:${engineNs}:${serviceAccount}`],
      policies: [...policies.values()] as unknown as InjectablePolicy[],
    });
    await core().createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'reporter' } } });
    await waitUntilInjecting(core(), ns, { app: 'shop' });
    repo = await createTestRepo('bh-hostile-');
    await repo.commit({ 'policies/README.md': 'policies\n' }, 'initial');

    // The data plane's log goes to a file for the failure dump.
    const logPath = join(repo.bareDir, '..', 'engine.log');
    registerLogFile('engine', logPath);
    const logger = pino({ level: 'debug' }, pino.destination({ dest: logPath, sync: true }));
    const registry = new Registry();
    const client = new KubeClient(engineKc);
    const wake: { notify?: (uid: string) => void } = {};
    observe = createObserve({
      kubeConfig: engineKc,
      registry,
      logger,
      store: { onChange: (uid) => wake.notify?.(uid) },
      // The fuzz below sends thousands of bodies with one pod's token: the per-pod rate limit
      // (observe-ingest.test.ts) would answer most with 429 before their body is read.
      rate: { perSecond: 100_000, burst: 100_000 },
    });
    pipeline = startQuarantinePipeline({
      client,
      identityRejections: observe.identityRejections,
      resolver: new ResourceResolver(client),
      events: new EventRecorder(client, { component: 'bulkhead', instance: 'test', logger }),
      logger,
      registry,
      store: observe.store,
      authenticator: observe.authenticator,
      policy: (name) => policies.get(name),
      isLeader: () => true,
      cluster: `c${Math.random().toString(36).slice(2, 8)}`,
      engineNamespace: engineNs,
      records: { url: repo.url, branch: 'main', cacheDir: join(repo.bareDir, '..', 'cache') },
      env: { path: HERMETIC_GIT_ENV.PATH!, home: HERMETIC_GIT_ENV.HOME! },
      flushIntervalMs: 200,
      releaseIntervalMs: 600_000,
      groupWindowMs: 20,
    });
    wake.notify = (uid) => pipeline.notify(uid);
    const app = new Koa();
    for (const r of [observe.router, pipeline.verdictRouter]) app.use(r.routes()).use(r.allowedMethods());
    const authority = await createCertificateAuthority('hostile-test', 1);
    ca = authority.cert;
    caPath = join(repo.bareDir, '..', 'ca.crt');
    await writeFile(caPath, ca);
    const serving = await issueCertificate(authority, {
      commonName: '127.0.0.1',
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
      validForDays: 1,
    });
    server = createServer({ cert: serving.cert, key: serving.key }, app.callback());
    // As admission/server.ts sets the engine's HTTPS server (kept-alive sockets outlive a pause).
    server.keepAliveTimeout = 95_000;
    server.headersTimeout = 100_000;
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

    // An analytics tool allowed to create quarantines in the namespace (the verdict API's RBAC).
    const rbac = getCluster().kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'verdicts' },
        rules: [{ apiGroups: ['bulkhead.dev'], resources: ['quarantines'], verbs: ['create'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'verdicts' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'verdicts' },
        subjects: [{ kind: 'ServiceAccount', name: 'analyzer', namespace: ns }],
      },
    });
    analyzer = await mintServiceAccountToken(getCluster().kubeConfig(), ns, 'analyzer', { audiences: ['bulkhead'] });
  });

  after(async () => {
    await killAll();
    await pipeline?.stop();
    await observe?.close();
    server?.closeAllConnections();
    await new Promise((ok) => server?.close(ok));
    await hook?.cleanup();
    await repo?.remove();
    // installEngineRbac's cluster-scoped objects carry the namespace as suffix.
    const rbac = getCluster().kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    for (const r of (await rbac.listClusterRole()).items.filter((x) => x.metadata?.name?.endsWith(`-${engineNs}`)))
      await rbac.deleteClusterRole({ name: r.metadata!.name! });
    for (const b of (await rbac.listClusterRoleBinding()).items.filter((x) =>
      x.metadata?.name?.endsWith(`-${engineNs}`),
    ))
      await rbac.deleteClusterRoleBinding({ name: b.metadata!.name! });
    for (const r of (await rbac.listNamespacedRole({ namespace: 'default' })).items.filter((x) =>
      x.metadata?.name?.endsWith(`-${engineNs}`),
    ))
      await rbac.deleteNamespacedRole({ name: r.metadata!.name!, namespace: 'default' });
    for (const b of (await rbac.listNamespacedRoleBinding({ namespace: 'default' })).items.filter((x) =>
      x.metadata?.name?.endsWith(`-${engineNs}`),
    ))
      await rbac.deleteNamespacedRoleBinding({ name: b.metadata!.name!, namespace: 'default' });
  });

  /** A pod created as a developer would (the webhook injects it if a policy selects it), running as `reporter`. */
  async function createPod(name: string, labels: Record<string, string>): Promise<TestPod & { pod: V1Pod }> {
    const body = simplePod(name, labels);
    body.spec!.serviceAccountName = 'reporter';
    const pod = await core().createNamespacedPod({ namespace: ns, body });
    return { namespace: ns, name, uid: pod.metadata!.uid!, pod };
  }

  /** The real sidecar process for `pod`, probing an app that fails from the start; `claim` is what it says its policy is. */
  async function failingSidecar(pod: TestPod, claim: string): Promise<void> {
    const app = await startApp(`${pod.name}-app`);
    await app.setMode('fail');
    await startSidecar(
      pod,
      await podToken(pod),
      {
        ...quickSidecarEnv(app.port, `${base}/api/v1/reports`, caPath),
        // The pod sets its own sidecar's environment: a compromised pod says what it likes.
        BULKHEAD_POLICY: claim,
      },
      `${pod.name}-sidecar`,
    );
  }

  const quarantineOf = async (pod: TestPod): Promise<Quarantine | undefined> =>
    (await listQuarantines(admin(), new ResourceResolver(admin()), ns)).find((q) => q.spec.pod.uid === pod.uid);
  const labelsOf = async (pod: TestPod) =>
    (await core().readNamespacedPod({ namespace: ns, name: pod.name })).metadata?.labels ?? {};
  const failedSamples = (pod: TestPod): number =>
    observe.store.get(pod.uid)?.samples.filter((s) => !s.probe.ok).length ?? 0;

  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const post = (
    path: string,
    body: string,
    token: string,
  ): Promise<{ status: number; body: Record<string, unknown> }> =>
    new Promise((ok, fail) => {
      const req = request(
        `${base}${path}`,
        {
          method: 'POST',
          ca,
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
            authorization: `Bearer ${token}`,
          },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => {
            let parsed: Record<string, unknown>;
            try {
              parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
            } catch {
              parsed = { text };
            }
            ok({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('error', fail);
      req.end(body);
    });

  let intruder: TestPod & { pod: V1Pod };

  it('a pod no policy selects, claiming an Enforce policy in its reports, is not judged by it (nor quarantined)', async () => {
    intruder = await createPod('intruder', { app: 'intruder' });
    assert.equal(intruder.pod.metadata?.annotations?.['bulkhead.dev/injected'], undefined, 'no policy injected it');
    const honest = await createPod('shop-1', { app: 'shop' });
    assert.match(honest.pod.metadata?.annotations?.['bulkhead.dev/injected'] ?? '', new RegExp(enforce()));
    await failingSidecar(intruder, enforce());
    await failingSidecar(honest, enforce());
    // The honest pod the policy selects is quarantined: failing reports are judged.
    await eventually(async () => assert.equal((await labelsOf(honest))[LABEL.quarantined], 'true'), {
      what: 'the selected pod quarantined',
      timeoutMs: 60_000,
    });
    // The intruder failed just as long, and was heard (its reports were accepted)...
    await eventually(() => assert.ok(failedSamples(intruder) >= 6, `failed samples ${failedSamples(intruder)}`), {
      what: "the intruder's failures stored",
      timeoutMs: 30_000,
    });
    await pipeline.evaluator.idle();
    // ...but the engine judges it by no policy: the report's claim is not kept, nothing acts on it.
    assert.equal(observe.store.get(intruder.uid)?.policy, undefined);
    assert.equal(observe.store.get(honest.uid)?.policy, enforce());
    assert.equal(await quarantineOf(intruder), undefined);
    assert.equal((await labelsOf(intruder))[LABEL.quarantined], undefined);
  });

  it('a pod an Enforce policy selects, claiming a DryRun policy in its reports, is still enforced', async () => {
    const dodger = await createPod('shop-2', { app: 'shop' });
    await failingSidecar(dodger, dryRun());
    const q = await eventually(
      async () => {
        const found = await quarantineOf(dodger);
        assert.equal(found?.status?.phase, 'Isolated', JSON.stringify(found?.status));
        return found!;
      },
      { what: 'the dodging pod isolated', timeoutMs: 60_000 },
    );
    assert.equal(q.spec.mode, 'Enforce');
    assert.equal(q.spec.policy, enforce());
    assert.equal((await labelsOf(dodger))[LABEL.quarantined], 'true');
  });

  it('a DryRun quarantine does not make the pod immune: a later Enforce verdict isolates it and rewrites its record', async () => {
    const blog = await createPod('blog-1', { app: 'blog' });
    await failingSidecar(blog, dryRun());
    const dry = await eventually(
      async () => {
        const found = await quarantineOf(blog);
        assert.equal(found?.status?.audit?.state, 'Committed', JSON.stringify(found?.status));
        return found!;
      },
      { what: 'DryRun record committed', timeoutMs: 60_000 },
    );
    assert.equal(dry.spec.mode, 'DryRun');
    assert.equal((await labelsOf(blog))[LABEL.quarantined], undefined, 'DryRun does nothing to the pod');
    // The policy goes Enforce (as a reviewed change in git would; the engine's watch delivers it).
    const p = policies.get(dryRun())!;
    policies.set(dryRun(), { ...p, spec: { ...p.spec, action: { ...p.spec.action, mode: 'Enforce' } } });
    const r = await post(
      '/api/v1/verdicts',
      JSON.stringify({ namespace: ns, pod: blog.name, reason: 'AnomalousEgress', message: 'egress to 203.0.113.9' }),
      analyzer,
    );
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const enforced = await eventually(
      async () => {
        const found = await quarantineOf(blog);
        assert.equal(found?.spec.mode, 'Enforce');
        assert.equal(found?.status?.phase, 'Isolated');
        assert.equal(found?.status?.audit?.state, 'Committed', 'the Enforce record written');
        return found!;
      },
      { what: 'the DryRun quarantine upgraded, enforced and recorded', timeoutMs: 60_000 },
    );
    assert.equal(enforced.metadata.uid, dry.metadata.uid, 'the same Quarantine, upgraded');
    assert.notEqual(enforced.status?.audit?.commit, dry.status?.audit?.commit);
    assert.equal((await labelsOf(blog))[LABEL.quarantined], 'true');
    const record = await git(repo.bareDir, 'show', `main:${enforced.spec.recordPath}`);
    assert.equal(recordUid(record), enforced.metadata.uid);
    assert.match(record, /^ {2}mode: Enforce$/m);
  });

  it('a verdict may name only a policy that selects the pod: another policy is refused with a 422 saying so', async () => {
    const named = await post(
      '/api/v1/verdicts',
      JSON.stringify({ namespace: ns, pod: intruder.name, reason: 'AnomalousEgress', policy: enforce() }),
      analyzer,
    );
    assert.equal(named.status, 422, JSON.stringify(named.body));
    const [problem] = named.body.problems as { pointer: string; message: string }[];
    assert.equal(problem?.pointer, '/policy');
    assert.match(problem?.message ?? '', new RegExp(`HealthPolicy "${enforce()}" does not select pod ${ns}/intruder`));
    assert.match(problem?.message ?? '', /a verdict may use only a HealthPolicy that selects the pod/);
    const unnamed = await post(
      '/api/v1/verdicts',
      JSON.stringify({ namespace: ns, pod: intruder.name, reason: 'AnomalousEgress' }),
      analyzer,
    );
    assert.equal(unnamed.status, 422);
    assert.match(JSON.stringify(unnamed.body), /not injected by a policy/);
    await pipeline.evaluator.idle();
    assert.equal(await quarantineOf(intruder), undefined);
  });

  it('a pod that sends reports about a sibling with its own token trips IdentityRejected and is quarantined; the sibling it named is not', async () => {
    // Both healthy: whatever happens next comes from the refused reports, not from probes.
    const framer = await createPod('shop-framer', { app: 'shop' });
    const victim = await createPod('shop-victim', { app: 'shop' });
    for (const p of [framer, victim]) {
      const app = await startApp(`${p.name}-app`);
      await startSidecar(
        p,
        await podToken(p),
        quickSidecarEnv(app.port, `${base}/api/v1/reports`, caPath),
        `${p.name}-sidecar`,
      );
    }
    await eventually(
      () =>
        assert.ok(
          [framer, victim].every((p) => (observe.store.get(p.uid)?.samples.length ?? 0) >= 2),
          'samples stored for both',
        ),
      { what: 'both sidecars reporting', timeoutMs: 30_000 },
    );
    // The compromised pod tries to frame its sibling: failing reports naming the victim, sent
    // with its own valid pod-bound token. Each is refused; each counts against the sender.
    const token = await podToken(framer);
    for (let i = 1; i <= 5; i++) {
      const r = await post(
        '/api/v1/reports',
        JSON.stringify({
          apiVersion: 'bulkhead.dev/v1alpha1',
          kind: 'HealthReport',
          pod: { namespace: ns, name: victim.name, uid: victim.uid },
          sidecar: { version: '0.1.0', instance: 'framer', startedAt: new Date().toISOString() },
          dropped: 0,
          samples: [
            {
              seq: i,
              time: new Date().toISOString(),
              probe: { type: 'http', ok: false, latencyMs: 1, status: 500, error: 'UnexpectedStatus' },
            },
          ],
        }),
        token,
      );
      assert.equal(r.status, 403, JSON.stringify(r.body));
    }
    const q = await eventually(
      async () => {
        const found = await quarantineOf(framer);
        assert.equal(found?.status?.phase, 'Isolated', JSON.stringify(found?.status));
        return found!;
      },
      { what: 'the framing pod isolated', timeoutMs: 60_000 },
    );
    assert.equal(q.spec.reason, 'IdentityRejected');
    assert.equal(q.spec.policy, enforce());
    assert.equal((await labelsOf(framer))[LABEL.quarantined], 'true');
    await pipeline.evaluator.idle();
    assert.equal(await quarantineOf(victim), undefined, 'the framed sibling is left alone');
    assert.equal((await labelsOf(victim))[LABEL.quarantined], undefined);
    assert.ok(
      observe.store.get(victim.uid)?.samples.every((s) => s.probe.ok),
      'no framed sample stored',
    );
  });

  describe('each probe fault drives the detector meant for it, in the running engine', () => {
    /** The real app and the real sidecar with the env the webhook injected (probe aimed at the local app). */
    async function runInjected(p: TestPod & { pod: V1Pod }): Promise<Awaited<ReturnType<typeof startApp>>> {
      const app = await startApp(`${p.name}-app`);
      const env: Record<string, string> = {};
      for (const e of injectedSidecar(p.pod)?.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
      // Where the kubelet would mount the token and which port is free are this machine's (startSidecar's).
      delete env.BULKHEAD_TOKEN_PATH;
      delete env.BULKHEAD_HEALTH_PORT;
      assert.equal(env.BULKHEAD_PROBE_INTERVAL, '1s', 'the policy probe interval injected');
      await startSidecar(
        p,
        await podToken(p),
        {
          ...env,
          BULKHEAD_PROBE_HOST: '127.0.0.1',
          BULKHEAD_PROBE_PORT: String(app.port),
          BULKHEAD_REPORT_URL: `${base}/api/v1/reports`,
          BULKHEAD_CA_PATH: caPath,
          // Not injected (the sidecar's default is 10 s): quick reports keep the test short.
          BULKHEAD_REPORT_INTERVAL: '500ms',
        },
        `${p.name}-sidecar`,
      );
      await eventually(
        () =>
          assert.ok((observe.store.get(p.uid)?.samples.filter((s) => s.probe.ok).length ?? 0) >= 5, 'healthy history'),
        { what: `${p.name} reporting healthy`, timeoutMs: 30_000 },
      );
      return app;
    }

    let sibling: TestPod & { pod: V1Pod };
    before(async () => {
      sibling = await createPod('faults-healthy', { app: 'faults' });
      assert.match(sibling.pod.metadata?.annotations?.['bulkhead.dev/injected'] ?? '', new RegExp(faults()));
      await runInjected(sibling);
    });

    for (const [mode, reason] of [
      ['hang', 'ConsecutiveFailures'],
      ['errors', 'ErrorRate'],
      ['slow', 'LatencyP99'],
    ] as const) {
      it(`${mode}: quarantined for ${reason}; the healthy sibling is left alone`, async () => {
        const p = await createPod(`faults-${mode}`, { app: 'faults' });
        const app = await runInjected(p);
        const early = await quarantineOf(p);
        assert.equal(early, undefined, `nothing before the fault: ${early?.spec.reason} ${early?.spec.message}`);
        await app.setMode(mode);
        const q = await eventually(
          async () => {
            const found = await quarantineOf(p);
            assert.equal(found?.status?.phase, 'Isolated', JSON.stringify(found?.status));
            return found!;
          },
          { what: `the ${mode} pod isolated`, timeoutMs: 60_000 },
        );
        assert.equal(q.spec.reason, reason, q.spec.message);
        assert.equal(q.spec.policy, faults());
        await pipeline.evaluator.idle();
        assert.equal(await quarantineOf(sibling), undefined, 'the healthy sibling not quarantined');
      });
    }
  });

  it('fuzz: 5,000 report bodies and 5,000 verdict bodies: never a 5xx, and a refused one changes nothing', async function () {
    this.timeout(600_000);
    // Only the fuzz talks to the server now.
    await killAll();
    const target = await createPod('fuzz-1', { app: 'fuzz' });
    const token = await podToken(target);
    const other = intruder;
    const before = (await listQuarantines(admin(), new ResourceResolver(admin()), ns)).map((q) => q.metadata.name);
    const snapshot = () =>
      JSON.stringify([observe.store.size, observe.store.get(target.uid), observe.store.get(other.uid)]);

    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 40 }), fc.constant(''));
    const num = fc.oneof(fc.integer(), fc.double(), fc.constant(1e308), fc.constant(-1));
    const podRef = fc.oneof(
      fc.constant({ namespace: ns, name: target.name, uid: target.uid }),
      fc.constant({ namespace: ns, name: other.name, uid: other.uid }),
      fc.record({ namespace: text, name: text, uid: text }),
    );
    const sample = fc.record(
      {
        seq: fc.oneof(fc.nat(), num),
        time: fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          text,
        ),
        probe: fc.record(
          {
            type: fc.constantFrom('http', 'tcp', 'grpc', 'udp'),
            ok: fc.oneof(fc.boolean(), text),
            latencyMs: num,
            status: fc.oneof(fc.integer({ min: 100, max: 599 }), num),
            error: fc.constantFrom('Timeout', 'Other', 'Nope'),
          },
          { requiredKeys: ['type', 'ok', 'latencyMs'] },
        ),
        process: fc.record({ count: num, cpuSeconds: num, rssBytes: num, openFds: num, threads: num }),
      },
      { requiredKeys: ['seq', 'time', 'probe'] },
    );
    const report = fc.record(
      {
        apiVersion: fc.constantFrom('bulkhead.dev/v1alpha1', 'v1'),
        kind: fc.constantFrom('HealthReport', 'Pod'),
        pod: podRef,
        policy: fc.oneof(fc.constantFrom(enforce(), dryRun()), text),
        sidecar: fc.record({
          version: text,
          instance: text,
          startedAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        }),
        dropped: fc.oneof(fc.nat(), num),
        samples: fc.array(sample, { maxLength: 4 }),
        extra: fc.jsonValue(),
      },
      { requiredKeys: ['apiVersion', 'kind', 'pod', 'sidecar', 'dropped', 'samples'] },
    );
    /** A well-formed value with one field (at a dotted path) replaced by anything, or removed. */
    const mutate = <T>(valid: fc.Arbitrary<T>, paths: string[]) =>
      fc
        .tuple(valid, fc.constantFrom(...paths), fc.oneof(fc.jsonValue(), text, num, fc.constant(undefined)))
        .map(([v, path, x]) => {
          const copy = structuredClone(v) as Record<string, unknown>;
          const keys = path.split('.');
          let o = copy;
          for (const k of keys.slice(0, -1)) {
            if (o[k] === null || typeof o[k] !== 'object') return copy;
            o = o[k] as Record<string, unknown>;
          }
          if (x === undefined) delete o[keys.at(-1)!];
          else o[keys.at(-1)!] = x;
          return copy;
        });
    /** Well-formed bodies, the same with one field broken, arbitrary JSON, and bytes that are not JSON. */
    const body = (good: fc.Arbitrary<unknown>, paths: string[], shaped: fc.Arbitrary<unknown>) =>
      fc.oneof(
        { weight: 2, arbitrary: good.map((v) => JSON.stringify(v)) },
        { weight: 3, arbitrary: mutate(good, paths).map((v) => JSON.stringify(v)) },
        { weight: 1, arbitrary: shaped.map((v) => JSON.stringify(v)) },
        { weight: 1, arbitrary: fc.json() },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
      );
    let seq = 0;
    const goodReport = fc
      .tuple(fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }), fc.nat(100), fc.constantFrom(enforce(), dryRun()))
      .map(([oks, dropped, claim]) => ({
        apiVersion: 'bulkhead.dev/v1alpha1',
        kind: 'HealthReport',
        pod: { namespace: ns, name: target.name, uid: target.uid },
        // Whatever the report claims, nothing judges this pod: no policy selects it.
        policy: claim,
        sidecar: { version: '0.1.0', instance: 'fuzz', startedAt: new Date().toISOString() },
        dropped,
        samples: oks.map((ok) => ({
          seq: ++seq,
          time: new Date().toISOString(),
          probe: {
            type: 'http',
            ok,
            latencyMs: 1,
            ...(ok ? { status: 200 } : { status: 500, error: 'UnexpectedStatus' }),
          },
        })),
      }));
    const reportPaths = [
      'apiVersion',
      'kind',
      'pod',
      'pod.uid',
      'pod.name',
      'pod.namespace',
      'policy',
      'sidecar',
      'sidecar.instance',
      'dropped',
      'samples',
      'samples.0',
      'samples.0.seq',
      'samples.0.time',
      'samples.0.probe',
      'samples.0.probe.ok',
      'samples.0.probe.latencyMs',
      'samples.0.probe.type',
      'extra',
    ];
    const started = Date.now();
    let accepted = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(body(goodReport, reportPaths, report), async (b) => {
        const was = snapshot();
        const r = await post('/api/v1/reports', b, token);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        assert.ok(r.status < 500, `${r.status} for ${b.slice(0, 200)}`);
        if (r.status === 202) accepted++;
        else assert.equal(snapshot(), was, `refused (${r.status}) but the store changed: ${b.slice(0, 200)}`);
      }),
      { numRuns: 5_000 },
    );
    assert.ok(accepted > 500, `well-formed reports were accepted: ${JSON.stringify([...statuses])}`);
    assert.ok((statuses.get(403) ?? 0) > 0, 'reports about another pod were refused');

    const verdict = fc.record(
      {
        namespace: fc.oneof(fc.constant(ns), fc.constant('kube-system'), text),
        pod: fc.oneof(fc.constantFrom(target.name, other.name, 'no-such-pod'), text),
        uid: fc.oneof(fc.constantFrom(target.uid, other.uid), text),
        action: fc.constantFrom('Quarantine', 'Isolate', 'Restart', 'Alert', 'Delete'),
        reason: fc.oneof(fc.constantFrom('AnomalousEgress', 'X'), text),
        message: text,
        policy: fc.oneof(fc.constantFrom(enforce(), dryRun(), 'no-such-policy'), text),
        evidence: fc.array(fc.record({ time: text, detail: text, value: fc.oneof(num, text) }), { maxLength: 3 }),
        extra: fc.jsonValue(),
      },
      { requiredKeys: ['namespace', 'pod', 'reason'] },
    );
    const goodVerdict = fc.record(
      {
        namespace: fc.constant(ns),
        pod: fc.constantFrom(target.name, other.name, 'no-such-pod'),
        reason: fc.constantFrom('AnomalousEgress', 'CryptoMining'),
        policy: fc.constantFrom(enforce(), dryRun(), 'no-such-policy'),
        action: fc.constantFrom('Quarantine', 'Isolate', 'Restart', 'Alert'),
      },
      { requiredKeys: ['namespace', 'pod', 'reason'] },
    );
    const verdictPaths = ['namespace', 'pod', 'uid', 'action', 'reason', 'message', 'policy', 'evidence', 'extra'];
    const reportsMs = Date.now() - started;
    const verdictStatuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(body(goodVerdict, verdictPaths, verdict), async (b) => {
        const was = snapshot();
        const r = await post('/api/v1/verdicts', b, analyzer);
        verdictStatuses.set(r.status, (verdictStatuses.get(r.status) ?? 0) + 1);
        // No policy selects these pods: every verdict about them is refused, none is a 5xx.
        assert.ok(r.status >= 400 && r.status < 500, `${r.status} for ${b.slice(0, 200)}: ${JSON.stringify(r.body)}`);
        assert.equal(snapshot(), was);
      }),
      { numRuns: 5_000 },
    );
    assert.ok(
      (verdictStatuses.get(422) ?? 0) > 0 && (verdictStatuses.get(404) ?? 0) + (verdictStatuses.get(403) ?? 0) > 0,
    );
    // What the fuzz reached, for the log (not asserted: timing is the bench's business).
    console.log(
      `      reports ${JSON.stringify([...statuses].sort())} in ${reportsMs} ms; verdicts ${JSON.stringify([...verdictStatuses].sort())} in ${Date.now() - started - reportsMs} ms`,
    );

    // Nothing was decided from any of it, and the server still serves a well-formed report.
    await pipeline.evaluator.idle();
    const after = (await listQuarantines(admin(), new ResourceResolver(admin()), ns)).map((q) => q.metadata.name);
    assert.deepEqual(after, before);
    const ok = await post(
      '/api/v1/reports',
      JSON.stringify({
        apiVersion: 'bulkhead.dev/v1alpha1',
        kind: 'HealthReport',
        pod: { namespace: ns, name: target.name, uid: target.uid },
        sidecar: { version: '0.1.0', instance: 'after-fuzz', startedAt: new Date().toISOString() },
        dropped: 0,
        samples: [{ seq: 1, time: new Date().toISOString(), probe: { type: 'http', ok: true, latencyMs: 1 } }],
      }),
      token,
    );
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
  });
});
