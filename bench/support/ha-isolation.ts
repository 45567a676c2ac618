// bench/ha.bench.ts, part 2: failing report → pod isolated, through real engine processes
// (`bulkhead run --https`, leader election on, the engine's ServiceAccount under deploy/rbac)
// behind a per-connection round-robin balancer on a local control plane, with 1 replica and
// then 3. Each run is one pod: a report with two failed probes (through the balancer, following
// 421 by reconnecting as the sidecar does, so the connection ends up on the leader), then, timed,
// the report with the third failure on that same connection until a watch sees the pod
// labelled quarantined. What is compared is the steady state: a sidecar already on the leader.
import { Agent, request } from 'node:https';
import { AdmissionregistrationV1Api, CoreV1Api, Watch, type V1Pod } from '@kubernetes/client-node';
import { WEBHOOK_NAMES } from '../../engine/src/admission/index.js';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import {
  createTestNamespace,
  freePorts,
  mintServiceAccountToken,
  startLocalCluster,
} from '../../tools/local-cluster/index.js';
import { installCrds } from '../../test/harness/crds.js';
import { installEngineRbac, startEngineProcess, type EngineProcess } from '../../test/harness/engine-process.js';
import { eventually } from '../../test/harness/eventually.js';
import { startRoundRobinBalancer, type Balancer } from '../../test/harness/round-robin-balancer.js';
import { setCluster } from '../../test/harness/state.js';
import { median, percentile, round, withBaseline, type BenchResult } from '../lib.js';

interface Sent {
  status: number;
}

function post(agent: Agent, port: number, token: string, body: string): Promise<Sent> {
  return new Promise((ok, fail) => {
    const req = request(
      {
        method: 'POST',
        host: '127.0.0.1',
        port,
        path: '/api/v1/reports',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          authorization: `Bearer ${token}`,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => ok({ status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

export async function isolationLatency(opts: { log: (l: string) => void; runs: number }): Promise<BenchResult[]> {
  const cluster = await startLocalCluster({ workloads: true, nodes: 3 });
  setCluster(cluster);
  try {
    const kc = cluster.kubeConfig();
    await installCrds(kc, 'deploy/crds');
    const one = await measure(kc, 1, opts.runs, opts.log);
    const three = await measure(kc, 3, opts.runs, opts.log);
    opts.log(`report → isolated ms, 1 replica: ${one.map((v) => v.toFixed(0)).join(' ')}`);
    opts.log(`report → isolated ms, 3 replicas: ${three.map((v) => v.toFixed(0)).join(' ')}`);
    const p = (v: number[], q: number): number => round(percentile(v, q), 1);
    return [
      withBaseline({
        name: `report → pod isolated p50, 3 engine replicas (${opts.runs} runs)`,
        value: round(median(three), 1),
        unit: 'ms',
        baseline: { name: '1 replica, same run', value: round(median(one), 1) },
        goal: 'ratio <= 1.2',
        met: median(three) <= 1.2 * median(one),
      }),
      withBaseline({
        name: 'report → pod isolated p99, 3 engine replicas',
        value: p(three, 99),
        unit: 'ms',
        baseline: { name: '1 replica, same run', value: p(one, 99) },
        goal: 'ratio <= 1.2',
        met: percentile(three, 99) <= 1.2 * percentile(one, 99),
      }),
    ];
  } finally {
    setCluster(undefined);
    await cluster.stop();
  }
}

async function measure(
  kc: ReturnType<Awaited<ReturnType<typeof startLocalCluster>>['kubeConfig']>,
  replicas: number,
  runs: number,
  log: (l: string) => void,
): Promise<number[]> {
  const admin = new KubeClient(kc);
  const engineNs = await createTestNamespace(kc, `ha-engine-${replicas}`);
  const appNs = await createTestNamespace(kc, `ha-app-${replicas}`);
  const policy = `ha-bench-${replicas}`;
  const engines: EngineProcess[] = [];
  const balancers: Balancer[] = [];
  const core = kc.makeApiClient(CoreV1Api);
  let watch: AbortController | undefined;
  try {
    const { kubeconfigPath } = await installEngineRbac(engineNs);
    // Before the engines start: once they run, their GitOps guard refuses a policy not from git.
    await admin.request({
      method: 'POST',
      path: '/apis/bulkhead.dev/v1alpha1/healthpolicies',
      body: {
        apiVersion: 'bulkhead.dev/v1alpha1',
        kind: 'HealthPolicy',
        metadata: { name: policy },
        spec: {
          match: { namespaces: [appNs] },
          probe: { http: { path: '/healthz', port: 8080 } },
          detect: { rules: [{ type: 'ConsecutiveFailures', threshold: 3 }] },
          action: { type: 'Quarantine', budget: { maxUnavailable: '100%', maxPerNamespacePerHour: 10_000 } },
        },
      },
    });
    await core.createNamespacedServiceAccount({ namespace: appNs, body: { metadata: { name: 'reporter' } } });
    for (let i = 0; i < runs; i++)
      await core.createNamespacedPod({
        namespace: appNs,
        body: {
          // The annotation the injection webhook writes: the policy that judges the pod (ADR 1400).
          metadata: {
            name: `p-${i}`,
            labels: { app: 'bench' },
            annotations: { 'bulkhead.dev/injected': JSON.stringify({ policy, sidecar: '0.1.0' }) },
          },
          spec: { serviceAccountName: 'reporter', containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
        },
      });
    const ports = await freePorts(replicas);
    const service = await startRoundRobinBalancer(ports.map((port) => ({ host: '127.0.0.1', port })));
    balancers.push(service);
    const args = (i: number): string[] => [
      '--https',
      `127.0.0.1:${ports[i]}`,
      '--webhook-url',
      `https://127.0.0.1:${service.port}`,
      '--log-level',
      'info',
    ];
    const lease = async (): Promise<string | undefined> =>
      (
        await admin.request<{ spec?: { holderIdentity?: string } }>({
          method: 'GET',
          path: `/apis/coordination.k8s.io/v1/namespaces/${engineNs}/leases/bulkhead-engine`,
        })
      ).spec?.holderIdentity;
    for (let i = 0; i < replicas; i++) {
      engines.push(
        await startEngineProcess({ name: `${engineNs}-${i}`, kubeconfigPath, namespace: engineNs, args: args(i) }),
      );
      // The first one started takes the Lease; the others then follow.
      if (i === 0)
        await eventually(
          async () => {
            if ((await lease()) !== engines[0]!.name) throw new Error('not leading yet');
          },
          { what: 'first engine leads', timeoutMs: 30_000 },
        );
    }
    const tls = await admin.request<{ data: Record<string, string> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${engineNs}/secrets/bulkhead-webhook-tls`,
    });
    const ca = Buffer.from(tls.data['ca.crt']!, 'base64').toString('utf8');
    // Reports reach the engine through a balancer over every replica, as through the Service.
    const reports = await startRoundRobinBalancer(ports.map((port) => ({ host: '127.0.0.1', port })));
    balancers.push(reports);

    const pods = new Map<string, V1Pod>();
    const waiting = new Map<string, () => void>();
    watch = await new Watch(kc).watch(
      `/api/v1/namespaces/${appNs}/pods`,
      {},
      (_type, obj: V1Pod) => {
        pods.set(obj.metadata!.name!, obj);
        if (obj.metadata?.labels?.['bulkhead.dev/quarantined'] === 'true') waiting.get(obj.metadata.name!)?.();
      },
      () => {},
    );
    await eventually(
      async () => {
        if ([...pods.values()].filter((p) => p.status?.phase === 'Running').length < runs)
          throw new Error('pods not Running');
      },
      { what: 'bench pods Running', timeoutMs: 60_000 },
    );
    const out: number[] = [];
    const t0 = Date.now();
    for (let i = 0; i < runs; i++) {
      const pod = pods.get(`p-${i}`)!;
      const ref = { namespace: appNs, name: pod.metadata!.name!, uid: pod.metadata!.uid! };
      const token = await mintServiceAccountToken(kc, appNs, 'reporter', {
        audiences: ['bulkhead'],
        boundPod: { name: ref.name, uid: ref.uid },
      });
      const report = (samples: { seq: number; ok: boolean }[]): string =>
        JSON.stringify({
          apiVersion: 'bulkhead.dev/v1alpha1',
          kind: 'HealthReport',
          pod: ref,
          sidecar: { version: '0.1.0', instance: `bench-${i}`, startedAt: new Date(t0).toISOString() },
          dropped: 0,
          samples: samples.map((s) => ({
            seq: s.seq,
            time: new Date().toISOString(),
            probe: s.ok
              ? { type: 'http', ok: true, latencyMs: 1, status: 200 }
              : { type: 'http', ok: false, latencyMs: 1, status: 500, error: 'UnexpectedStatus' },
          })),
        });
      // One keep-alive connection, as the sidecar keeps (maxSockets 1); on 421 a new one.
      let agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
      const first = report([
        { seq: 1, ok: true },
        { seq: 2, ok: false },
        { seq: 3, ok: false },
      ]);
      for (let attempt = 0; ; attempt++) {
        const r = await post(agent, reports.port, token, first);
        if (r.status === 202) break;
        if (r.status !== 421 || attempt > 10) throw new Error(`report answered ${r.status}`);
        agent.destroy();
        agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
      }
      // The first report is evaluated (two failures: not yet tripped) before the timed one.
      await new Promise((ok) => setTimeout(ok, 300));
      const isolated = new Promise<void>((ok) => waiting.set(ref.name, ok));
      const t = performance.now();
      const r = await post(agent, reports.port, token, report([{ seq: 4, ok: false }]));
      if (r.status !== 202) throw new Error(`threshold report answered ${r.status}`);
      await isolated;
      out.push(performance.now() - t);
      agent.destroy();
    }
    log(`${replicas} replica(s): ${runs} pods isolated`);
    return out;
  } finally {
    watch?.abort();
    for (const e of engines) await e.stop();
    for (const b of balancers) await b.close();
    const api = kc.makeApiClient(AdmissionregistrationV1Api);
    await api.deleteMutatingWebhookConfiguration({ name: WEBHOOK_NAMES.mutating }).catch(() => {});
    await api.deleteValidatingWebhookConfiguration({ name: WEBHOOK_NAMES.validating }).catch(() => {});
    await admin
      .request({ method: 'DELETE', path: `/apis/bulkhead.dev/v1alpha1/healthpolicies/${policy}` })
      .catch(() => {});
    admin.close();
  }
}
