// Admission webhook (issue 5, performance anchors P1): the /mutate endpoint with 200 policies
// loaded, over HTTPS, at 200, 500 and 1,000 req/s (autocannon, fixed overall rate, latency
// corrected for coordinated omission), and unpaced throughput; side by side with a bare Node
// https server that answers a fixed AdmissionReview, measured in the same run. Each server runs
// in its own child process (this file, started with `serve <mode>`), so the load generator does
// not share its event loop; RSS is the child's peak VmRSS under load.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type autocannon from 'autocannon';
import type { InjectablePolicy } from '../engine/src/admission/inject/policy.js';
import { createCertificateAuthority, issueCertificate } from '../engine/src/core/pki.js';
import { median, percentile, round, withBaseline, type Bench, type BenchResult } from './lib.js';
import { procUsage } from './support/proc-usage.js';
import { errorMessage } from '../engine/src/core/errors.js';

const POLICIES = 200;
const RATES = [200, 500, 1000] as const;
const CONNECTIONS = 8;

/** 200 policies: most in other namespaces, some by namespace label, one for the pod's namespace. */
export function benchPolicies(): InjectablePolicy[] {
  const out: InjectablePolicy[] = [];
  for (let i = 0; i < POLICIES - 21; i++) {
    out.push({
      metadata: { name: `team-${i}` },
      spec: {
        match: { namespaces: [`team-${i % 90}`], selector: { matchLabels: { app: `svc-${i}` } } },
        probe: { http: { path: '/healthz', port: 8080 } },
      },
    });
  }
  for (let i = 0; i < 20; i++) {
    out.push({
      metadata: { name: `tier-${i}` },
      spec: { match: { namespaceSelector: { matchLabels: { tier: `t${i}` } } }, probe: { tcp: { port: 8080 } } },
    });
  }
  out.push({
    metadata: { name: 'shop-web' },
    spec: {
      match: { namespaces: ['shop'], selector: { matchLabels: { app: 'web' } } },
      probe: { http: { path: '/healthz', port: 'http' } },
    },
  });
  return out;
}

/** A ~3.5 KB pod CREATE review, like the apiserver sends for a one-container Deployment pod. */
export function podReview(): string {
  const labels = { app: 'web', 'pod-template-hash': '7d9c6b5f4d', version: 'v1.4.2', team: 'storefront' };
  const container = {
    name: 'app',
    image: 'registry.example/storefront/web:1.4.2',
    ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
    env: Array.from({ length: 12 }, (_, i) => ({ name: `SETTING_${i}`, value: `value-number-${i}-of-the-web-config` })),
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    readinessProbe: {
      httpGet: { path: '/ready', port: 'http', scheme: 'HTTP' },
      periodSeconds: 5,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
    },
    volumeMounts: [
      { name: 'kube-api-access-abcde', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
    ],
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  };
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'web-7d9c6b5f4d-',
      namespace: 'shop',
      labels,
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-26T01:00:00Z' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web-7d9c6b5f4d',
          uid: '0c4ad1de-8a6b-4a38-9d5e-4b1f0e2f6d11',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      containers: [container],
      volumes: [
        {
          name: 'kube-api-access-abcde',
          projected: { sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }] },
        },
      ],
      serviceAccountName: 'default',
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
    },
  };
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'shop',
      operation: 'CREATE',
      userInfo: {
        username: 'system:serviceaccount:kube-system:replicaset-controller',
        uid: 'b1e3',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
      },
      object: pod,
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Child processes: each runs an esbuild bundle of just its serve function (see bundleServer).

async function servingCert(): Promise<{ ca: string; serving: { cert: string; key: string } }> {
  const ca = await createCertificateAuthority('bench-ca', 1);
  return {
    ca: ca.cert,
    serving: await issueCertificate(ca, {
      commonName: '127.0.0.1',
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
      validForDays: 1,
    }),
  };
}

function announce(port: number, ca: string): void {
  // A clean exit on SIGTERM, so `node --cpu-prof` can write its profile.
  process.once('SIGTERM', () => process.exit(0));
  process.stdout.write(`${JSON.stringify({ port, ca })}\n`);
}

export async function serveBulkhead(): Promise<void> {
  const { ca, serving } = await servingCert();
  const [
    { pino },
    { Registry },
    { createAdmissionApp },
    { createMutateProcessor, createValidateProcessor },
    { startAdmissionServer },
    { PolicyIndex },
  ] = await Promise.all([
    import('pino'),
    import('prom-client'),
    import('../engine/src/admission/app.js'),
    import('../engine/src/admission/processors.js'),
    import('../engine/src/admission/server.js'),
    import('../engine/src/admission/inject/policy-index.js'),
  ]);
  const index = new PolicyIndex(benchPolicies(), {
    excludedNamespaces: ['kube-system', 'kube-public', 'bulkhead-system'],
  });
  const nsLabels: Record<string, Record<string, string>> = {
    shop: { 'kubernetes.io/metadata.name': 'shop', tier: 't3' },
  };
  const app = createAdmissionApp({
    // The production logger at its production level, writing to /dev/null: logging is part of the cost.
    logger: pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false })),
    registry: new Registry(),
    mutate: createMutateProcessor({
      policies: () => index,
      namespaceLabels: (ns) => nsLabels[ns] ?? { 'kubernetes.io/metadata.name': ns },
      sidecar: {
        image: 'registry.example/bulkhead/sidecar:0.1.0',
        version: '0.1.0',
        reportUrl: 'https://bulkhead.bulkhead-system.svc/api/v1/reports',
      },
    }),
    validate: createValidateProcessor({
      guard: { engineUsernames: [], breakGlassGroups: [] },
      breakGlass: () => false,
    }),
  });
  announce((await startAdmissionServer(app, serving)).port, ca);
}

/** The reference: read the body, take the uid, answer a fixed patch. No framework, no policy. */
export async function serveBare(): Promise<void> {
  const { ca, serving } = await servingCert();
  const fixedPatch = Buffer.from(
    JSON.stringify([{ op: 'add', path: '/metadata/labels/injected', value: 'true' }]),
  ).toString('base64');
  const server = createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const uid = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request: { uid: string } }).request.uid;
      const body = JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid, allowed: true, patchType: 'JSONPatch', patch: fixedPatch },
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 95_000;
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  announce((server.address() as AddressInfo).port, ca);
}

const self = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------------------------
// Parent: the bench.

interface Served {
  child: ChildProcess;
  port: number;
  ca: string;
}

/**
 * The server children run as plain `node` on an esbuild bundle of this file (not under tsx), so
 * their RSS is the server's own and not the TypeScript loader's.
 */
async function bundleSelf(mode: 'bulkhead' | 'bare'): Promise<string> {
  const { build } = await import('esbuild');
  const out = join(dirname(self), 'results', `.admission-${mode}-server.mjs`);
  const fn = mode === 'bulkhead' ? 'serveBulkhead' : 'serveBare';
  // An entry that uses only its serve function: tree shaking keeps the child free of the
  // parent's code and packages (autocannon, the local cluster, the kube client), and the bare
  // server free of koa, pino and prom-client.
  await build({
    stdin: {
      contents: `import { ${fn} } from './admission.bench.ts';\nawait ${fn}();\n`,
      resolveDir: dirname(self),
      loader: 'ts',
    },
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    treeShaking: true,
    logLevel: 'error',
  });
  return out;
}

function startChild(script: string, mode: 'bulkhead' | 'bare'): Promise<Served> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        const { port, ca } = JSON.parse(buf.slice(0, nl)) as { port: number; ca: string };
        ok({ child, port, ca });
      }
    });
    child.once('exit', (code) => fail(new Error(`${mode} server exited ${code}`)));
  });
}

interface RateFigures {
  p50: number;
  p99: number;
  rps: number;
  failures: number;
}

type Tracker = Promise<autocannon.Result> & {
  on(event: 'response', cb: (client: unknown, status: number, bytes: number, ms: number) => void): void;
};

/**
 * One autocannon run. Besides its own result (whole-ms latency buckets), every response time is
 * kept as the float autocannon measures, for sub-millisecond percentiles.
 */
async function load(
  s: Served,
  seconds: number,
  overallRate?: number,
  connections = CONNECTIONS,
): Promise<{ r: autocannon.Result; ms: number[] }> {
  const ms: number[] = [];
  const { default: run } = await import('autocannon');
  const tracker = run({
    url: `https://127.0.0.1:${s.port}/mutate`,
    connections,
    duration: seconds,
    ...(overallRate ? { overallRate } : {}),
    tlsOptions: { ca: s.ca },
    requests: [{ method: 'POST', body: REVIEW, headers: { 'content-type': 'application/json' } }],
  }) as Tracker;
  tracker.on('response', (_c, _status, _bytes, t) => ms.push(t));
  return { r: await tracker, ms };
}

const REVIEW = podReview();

async function checkInjects(): Promise<void> {
  // The processor the child runs, once in-process: the review must come out patched.
  const [{ createMutateProcessor }, { PolicyIndex }] = await Promise.all([
    import('../engine/src/admission/processors.js'),
    import('../engine/src/admission/inject/policy-index.js'),
  ]);
  const index = new PolicyIndex(benchPolicies(), { excludedNamespaces: ['kube-system'] });
  const mutate = createMutateProcessor({
    policies: () => index,
    namespaceLabels: () => ({}),
    sidecar: { image: 'x', version: '0', reportUrl: 'https://x' },
  });
  const res = await mutate((JSON.parse(REVIEW) as { request: Parameters<typeof mutate>[0] }).request);
  if (res.outcome !== 'patched') throw new Error(`bench review is not injected: ${res.note}`);
}

const bench: Bench = async ({ log, quick }) => {
  await checkInjects();
  const servers = {
    bulkhead: await startChild(await bundleSelf('bulkhead'), 'bulkhead'),
    bare: await startChild(await bundleSelf('bare'), 'bare'),
  };
  const modes = ['bulkhead', 'bare'] as const;
  const peak = { bulkhead: 0, bare: 0 };
  const sampler = setInterval(() => {
    for (const m of modes) {
      procUsage(servers[m].child.pid!)
        .then((u) => (peak[m] = Math.max(peak[m], u.rssBytes)))
        .catch(() => {});
    }
  }, 100);
  const reps = quick ? 1 : 3;
  const seconds = quick ? 3 : 8;
  const figures = { bulkhead: new Map<number, RateFigures[]>(), bare: new Map<number, RateFigures[]>() };
  const throughput = { bulkhead: [] as number[], bare: [] as number[] };
  try {
    for (const m of modes) {
      const { r: warm } = await load(servers[m], 2, 100, 2);
      if (warm.non2xx > 0 || warm.errors > 0)
        throw new Error(`${m}: warm-up had ${warm.non2xx} non-2xx, ${warm.errors} errors`);
    }
    // Back to back, same rate, both servers, repeated: the machine's noise hits both alike.
    for (let rep = 0; rep < reps; rep++) {
      for (const rate of RATES) {
        for (const m of modes) {
          const { r, ms } = await load(servers[m], seconds, rate);
          const f = {
            p50: round(percentile(ms, 50), 3),
            p99: round(percentile(ms, 99), 3),
            rps: r.requests.average,
            failures: r.non2xx + r.errors + r.timeouts,
          };
          figures[m].set(rate, [...(figures[m].get(rate) ?? []), f]);
          log(`${m} @${rate}/s: p50 ${f.p50} ms, p99 ${f.p99} ms, ${f.rps} req/s, ${f.failures} failures`);
        }
      }
      for (const m of modes) {
        const { r: t } = await load(servers[m], seconds, undefined, 16);
        throughput[m].push(t.requests.average);
        log(`${m} unpaced (16 connections): ${t.requests.average} req/s, p99 ${t.latency.p99} ms`);
      }
    }
  } finally {
    clearInterval(sampler);
    for (const m of modes) servers[m].child.kill('SIGTERM');
  }
  const med = (m: 'bulkhead' | 'bare', rate: number, k: keyof RateFigures): number =>
    median(figures[m].get(rate)!.map((f) => f[k]));
  const mib = (b: number): number => round(b / 2 ** 20, 1);
  log(`peak RSS: bulkhead ${mib(peak.bulkhead)} MiB, bare ${mib(peak.bare)} MiB`);
  const results: BenchResult[] = [];
  for (const rate of RATES) {
    results.push(
      withBaseline({
        name: `/mutate p50 at ${rate} req/s (${POLICIES} policies)`,
        value: med('bulkhead', rate, 'p50'),
        unit: 'ms',
        baseline: { name: 'bare https', value: med('bare', rate, 'p50') },
      }),
      withBaseline({
        name: `/mutate p99 at ${rate} req/s (${POLICIES} policies)`,
        value: med('bulkhead', rate, 'p99'),
        unit: 'ms',
        baseline: { name: 'bare https', value: med('bare', rate, 'p99') },
        ...(rate === 500 ? { goal: 'p99 <= 5 ms', met: med('bulkhead', rate, 'p99') <= 5 } : {}),
        notes: `median of ${reps}; achieved ${round(med('bulkhead', rate, 'rps'), 0)} req/s; failures ${figures.bulkhead.get(rate)!.reduce((n, f) => n + f.failures, 0)}`,
      }),
    );
  }
  const ours = median(throughput.bulkhead);
  const bare = median(throughput.bare);
  results.push(
    withBaseline({
      name: `/mutate throughput, unpaced, 16 connections (${POLICIES} policies)`,
      value: round(ours, 0),
      unit: 'req/s',
      baseline: { name: 'bare https', value: round(bare, 0) },
      goal: 'ratio >= 0.5',
      met: ours / bare >= 0.5,
    }),
    withBaseline({
      name: 'webhook process peak RSS under load',
      value: mib(peak.bulkhead),
      unit: 'MiB',
      baseline: { name: 'bare https', value: mib(peak.bare) },
      goal: '<= 128 MiB',
      met: mib(peak.bulkhead) <= 128,
      notes: 'plain node on an esbuild bundle; peak VmRSS sampled every 100 ms',
    }),
  );
  results.push(...(await throughTheApiserver(log, quick)));
  return results;
};

/**
 * P2 in small: pod CREATE through a real kube-apiserver at 10 concurrent workers, three ways in
 * the same run with the same client and cluster: no admission at all, the webhook path (200
 * policies, the pod's namespace selected) and the policy path (the same 200 policies as the
 * generated MutatingAdmissionPolicy, issue 17). The three run in turn for several rounds and
 * each way's samples are pooled, so drift on this shared machine does not favour any of them. A failure here is reported as a note; the direct figures above stand.
 */
const emptyRun = (): { ms: number[]; injected: number; failures: number } => ({ ms: [], injected: 0, failures: 0 });

async function throughTheApiserver(log: (l: string) => void, quick: boolean): Promise<BenchResult[]> {
  const [
    { startLocalCluster },
    { startAdmission },
    { silentLogger },
    { CoreV1Api },
    { Registry },
    { deleteAdmissionObjects, policyRefs, webhookRefs },
    { WEBHOOK_NAMES },
    { injectedSidecar },
  ] = await Promise.all([
    import('../tools/local-cluster/index.js'),
    import('../engine/src/admission/runtime.js'),
    import('../engine/src/core/logger.js'),
    import('@kubernetes/client-node'),
    import('prom-client'),
    import('../engine/src/admission/policy/register-policies.js'),
    import('../engine/src/admission/webhook-config.js'),
    import('../engine/src/admission/inject/patch.js'),
  ]);
  const isInjected = (p: { spec?: unknown }): boolean => injectedSidecar(p as never) !== undefined;
  let cluster: Awaited<ReturnType<typeof startLocalCluster>> | undefined;
  let rt: Awaited<ReturnType<typeof startAdmission>> | undefined;
  try {
    cluster = await startLocalCluster({ workloads: false });
    const kc = cluster.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    for (const name of ['shop', 'bulkhead-system']) await core.createNamespace({ body: { metadata: { name } } });
    const workers = 10;
    // Rounds of the three ways in turn, samples pooled per way: drift on this shared machine
    // (other processes come and go) lands on all three alike instead of on one phase.
    const rounds = quick ? 1 : 3;
    const perWorker = 20;
    const body = (
      JSON.parse(podReview()) as { request: { object: { metadata: Record<string, unknown>; spec: unknown } } }
    ).request.object;
    // `injected` counts pods injected by `way` only (a pod of the other path would not count).
    const phase = async (
      what: string,
      way: 'none' | 'webhook' | 'policy',
    ): Promise<{ ms: number[]; injected: number; failures: number }> => {
      const ms: number[] = [];
      let injected = 0;
      let failures = 0;
      await Promise.all(
        Array.from({ length: workers }, async () => {
          for (let i = 0; i < perWorker; i++) {
            const t = performance.now();
            try {
              const p = await core.createNamespacedPod({
                namespace: 'shop',
                body: { ...body, metadata: { ...body.metadata, namespace: 'shop' } } as never,
              });
              ms.push(performance.now() - t);
              if (isInjected(p) && p.metadata?.annotations?.['bulkhead.dev/admission-path'] === way) injected++;
            } catch {
              failures++;
            }
          }
        }),
      );
      log(
        `apiserver ${what}: ${ms.length} creates, p50 ${percentile(ms, 50).toFixed(1)} ms, p95 ${percentile(ms, 95).toFixed(1)} ms, ${injected} injected, ${failures} failures`,
      );
      return { ms, injected, failures };
    };
    await phase('warm-up (no admission)', 'none');
    const start = (mode: 'webhook' | 'policy') =>
      startAdmission({
        kubeConfig: kc,
        logger: silentLogger(),
        registry: new Registry(),
        engineNamespace: 'bulkhead-system',
        engineUsernames: [],
        breakGlassGroups: [],
        sidecar: {
          image: 'registry.example/bulkhead/sidecar:0.1.0',
          version: '0.1.0',
          reportUrl: 'https://bulkhead.bulkhead-system.svc/api/v1/reports',
        },
        tls: {
          secretName: 'bulkhead-webhook-tls',
          settings: {
            dnsNames: ['bulkhead.bulkhead-system.svc'],
            ipAddresses: ['127.0.0.1'],
            caValidityMs: 3_600_000,
            servingValidityMs: 1_800_000,
            caOverlapMs: 600_000,
          },
        },
        listen: { host: '127.0.0.1', port: 0 },
        policies: { list: () => benchPolicies(), onChange: () => {}, stop: async () => {} },
        mode,
      });
    // Admission configuration applies (and goes) asynchronously: create until five pods in a row
    // come back as this way leaves them (the path's annotation, or no sidecar at all).
    const settle = async (way: 'none' | 'webhook' | 'policy'): Promise<void> => {
      let inARow = 0;
      for (let i = 0; i < 400 && inARow < 5; i++) {
        const p = await core.createNamespacedPod({
          namespace: 'shop',
          body: { ...body, metadata: { ...body.metadata, namespace: 'shop' } } as never,
        });
        const path = isInjected(p) ? p.metadata?.annotations?.['bulkhead.dev/admission-path'] : 'none';
        inARow = path === way ? inARow + 1 : 0;
      }
      if (inARow < 5) throw new Error(`admission did not settle on ${way}`);
    };
    const pooled = { none: [] as number[], webhook: emptyRun(), policy: emptyRun() };
    for (let round = 0; round < rounds; round++) {
      await settle('none');
      pooled.none.push(...(await phase(`no admission (round ${round + 1})`, 'none')).ms);
      for (const mode of ['webhook', 'policy'] as const) {
        // Registering one path removes the other's objects (one path at a time).
        rt = await start(mode);
        await settle(mode);
        const r = await phase(`${mode} path (round ${round + 1})`, mode);
        pooled[mode].ms.push(...r.ms);
        pooled[mode].injected += r.injected;
        pooled[mode].failures += r.failures;
        await rt.close();
        rt = undefined;
      }
      await deleteAdmissionObjects(kc, [...policyRefs(WEBHOOK_NAMES), ...webhookRefs(WEBHOOK_NAMES)]);
    }
    const withHook = pooled.webhook;
    const withPolicy = pooled.policy;
    const none = pooled.none;
    const p = (x: number[], q: number): number => round(percentile(x, q), 2);
    const spread = (x: number[]): string => `p50 ${p(x, 50)} / p95 ${p(x, 95)} / p99 ${p(x, 99)} ms`;
    const allInjected = (r: { injected: number; failures: number; ms: number[] }): boolean =>
      r.failures === 0 && r.injected === r.ms.length;
    return [
      {
        name: `pod CREATE through the apiserver, no admission, p95 (${workers} workers)`,
        value: p(none, 95),
        unit: 'ms',
        notes: `${spread(none)}; ${none.length} creates (${rounds} rounds interleaved with the two paths, pooled)`,
      },
      withBaseline({
        name: `pod CREATE through the apiserver, webhook path, p95 (${workers} workers)`,
        value: p(withHook.ms, 95),
        unit: 'ms',
        baseline: { name: 'no admission', value: p(none, 95) },
        goal: 'ratio <= 1.2, 0 failures, every pod injected',
        met: p(withHook.ms, 95) / p(none, 95) <= 1.2 && allInjected(withHook),
        notes: `${spread(withHook.ms)}; ${withHook.injected}/${withHook.ms.length} injected, ${withHook.failures} failures`,
      }),
      withBaseline({
        name: `pod CREATE through the apiserver, policy path (MutatingAdmissionPolicy), p95 (${workers} workers)`,
        value: p(withPolicy.ms, 95),
        unit: 'ms',
        baseline: { name: 'no admission', value: p(none, 95) },
        goal: 'ratio <= 1.05, 0 failures, every pod injected',
        met: p(withPolicy.ms, 95) / p(none, 95) <= 1.05 && allInjected(withPolicy),
        notes: `${spread(withPolicy.ms)}; ${withPolicy.injected}/${withPolicy.ms.length} injected, ${withPolicy.failures} failures; webhook path p95 ratio ${round(p(withHook.ms, 95) / p(none, 95), 3)}`,
      }),
    ];
  } catch (err) {
    log(`apiserver path not measured: ${errorMessage(err)}`);
    return [];
  } finally {
    await rt?.close().catch(() => {});
    await cluster?.stop().catch(() => {});
  }
}

export default bench;
