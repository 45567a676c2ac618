// Failing report → pod isolated: the engine's reaction time, 50 runs. Each run delivers the
// threshold report (the third failed probe) into the engine's health store, as ingest does,
// and times until a watch on the pod sees the quarantined label (detached + isolated in one
// patch). Baseline, same run: one bare label PATCH of a pod seen by the same watch — the floor
// any isolation through the apiserver pays. Context: kubelet's default probe settings take
// ~30 s to declare a failure, and only restart.
import { CoreV1Api, Watch, type V1Pod } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { KubeClient } from '../engine/src/core/kube/client.js';
import { EventRecorder } from '../engine/src/core/kube/events.js';
import { ResourceResolver } from '../engine/src/core/kube/resources.js';
import { silentLogger } from '../engine/src/core/logger.js';
import type { HealthPolicy } from '../engine/src/core/api/index.js';
import { createTestNamespace, startLocalCluster } from '../tools/local-cluster/index.js';
import { HealthStore, TokenAuthenticator } from '../engine/src/observe/index.js';
import { startQuarantinePipeline } from '../engine/src/runtime/quarantine-pipeline.js';
import { installCrds } from '../test/harness/crds.js';
import { median, percentile, round, withBaseline, type Bench } from './lib.js';

const policy: HealthPolicy = {
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name: 'bench' },
  spec: {
    match: {},
    probe: { http: { path: '/healthz', port: 8080 } },
    detect: { rules: [{ type: 'ConsecutiveFailures', threshold: 3 }] },
    action: { type: 'Quarantine', budget: { maxUnavailable: '100%', maxPerNamespacePerHour: 10_000 } },
  },
};

const bench: Bench = async ({ log, quick }) => {
  const runs = quick ? 10 : 50;
  const cluster = await startLocalCluster({ workloads: true, nodes: 3 });
  try {
    const kc = cluster.kubeConfig();
    await installCrds(kc, 'deploy/crds');
    const ns = await createTestNamespace(kc, 'iso');
    const core = kc.makeApiClient(CoreV1Api);
    // Bare pods (no owner): each run isolates a different one; kwok makes them Running.
    for (let i = 0; i < runs * 2; i++) {
      await core.createNamespacedPod({
        namespace: ns,
        body: {
          // The annotation the injection webhook writes: the policy that judges the pod (ADR 1400).
          metadata: {
            name: `p-${i}`,
            labels: { app: 'bench' },
            annotations: { 'bulkhead.dev/injected': JSON.stringify({ policy: 'bench', sidecar: '0.1.0' }) },
          },
          spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
        },
      });
    }
    const pods = new Map<string, V1Pod>();
    const seen = new Map<string, (labels: Record<string, string>) => void>();
    const watch = await new Watch(kc).watch(
      `/api/v1/namespaces/${ns}/pods`,
      {},
      (_type, obj: V1Pod) => {
        pods.set(obj.metadata!.name!, obj);
        seen.get(obj.metadata!.name!)?.((obj.metadata?.labels ?? {}) as Record<string, string>);
      },
      () => {},
    );
    const until = (name: string, pred: (l: Record<string, string>) => boolean): Promise<void> =>
      new Promise((ok) => {
        seen.set(name, (l) => {
          if (pred(l)) {
            seen.delete(name);
            ok();
          }
        });
      });
    while ([...pods.values()].filter((p) => p.status?.phase === 'Running').length < runs * 2)
      await new Promise((ok) => setTimeout(ok, 100));

    const client = new KubeClient(kc);
    const logger = silentLogger();
    const resolver = new ResourceResolver(client);
    // As in the engine, a report added to the store wakes the pipeline (onChange).
    const wake: { notify?: (uid: string) => void } = {};
    const store = new HealthStore({ onChange: (uid) => wake.notify?.(uid) });
    const pipeline = startQuarantinePipeline({
      client,
      resolver,
      events: new EventRecorder(client, { component: 'bulkhead', instance: 'bench', logger }),
      logger,
      registry: new Registry(),
      store,
      authenticator: new TokenAuthenticator({ review: async () => ({}), audience: 'bulkhead' }),
      policy: (n) => (n === 'bench' ? policy : undefined),
      isLeader: () => true,
      cluster: 'bench',
      engineNamespace: 'bulkhead-system',
      env: { path: process.env.PATH ?? '', home: process.env.HOME ?? '/tmp' },
      groupWindowMs: 100,
    });
    wake.notify = (uid) => pipeline.notify(uid);
    const isolation: number[] = [];
    const baseline: number[] = [];
    try {
      for (let i = 0; i < runs; i++) {
        // Engine path: two failing probes already in the window, then the threshold report.
        const pod = pods.get(`p-${i}`)!;
        const ref = { namespace: ns, name: pod.metadata!.name!, uid: pod.metadata!.uid! };
        const sample = (seq: number, ok: boolean) => ({
          seq,
          time: new Date().toISOString(),
          probe: { type: 'http' as const, ok, latencyMs: 2 },
        });
        store.addReport({
          pod: ref,
          sidecar: { version: 'b', instance: 'b' },
          dropped: 0,
          samples: [sample(1, true), sample(2, false), sample(3, false)],
        });
        await pipeline.evaluator.idle();
        const isolated = until(ref.name, (l) => l['bulkhead.dev/quarantined'] === 'true');
        const t = performance.now();
        store.addReport({
          pod: ref,
          sidecar: { version: 'b', instance: 'b' },
          dropped: 0,
          samples: [sample(4, false)],
        });
        await isolated;
        isolation.push(performance.now() - t);

        // Baseline: one label patch of another pod, seen by the same watch.
        const other = `p-${runs + i}`;
        const patched = until(other, (l) => l.touched === 'yes');
        const tb = performance.now();
        await client.request({
          method: 'PATCH',
          path: `/api/v1/namespaces/${ns}/pods/${other}`,
          contentType: 'application/merge-patch+json',
          body: { metadata: { labels: { touched: 'yes' } } },
        });
        await patched;
        baseline.push(performance.now() - tb);
      }
    } finally {
      await pipeline.stop();
      watch.abort();
      client.close();
    }
    log(`isolation ms: ${isolation.map((v) => v.toFixed(0)).join(' ')}`);
    const base = { name: 'bare pod label PATCH seen by a watch', value: round(median(baseline), 1) };
    return [
      withBaseline({
        name: `threshold report → pod isolated, p50 (${runs} runs, grouping window 100 ms)`,
        value: round(median(isolation), 1),
        unit: 'ms',
        baseline: base,
      }),
      withBaseline({
        name: `threshold report → pod isolated, p99`,
        value: round(percentile(isolation, 99), 1),
        unit: 'ms',
        baseline: { name: 'bare PATCH p99', value: round(percentile(baseline, 99), 1) },
        goal: 'p99 <= 1000 ms',
        met: percentile(isolation, 99) <= 1000,
      }),
    ];
  } finally {
    await cluster.stop();
  }
};

export default bench;
