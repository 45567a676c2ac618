import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { strict as assert } from 'node:assert';
import type { PodHealth, Signal } from '../../../engine/src/analytics/index.js';
import { eventually } from '../../harness/index.js';

/** A Deployment on the kwok nodes, waited to `replicas` Running pods. */
export async function runDeployment(
  kc: KubeConfig,
  namespace: string,
  name: string,
  replicas: number,
  labels: Record<string, string> = { app: name },
  /** For pods that need a pod-bound token minted (a real sidecar reports for them). */
  serviceAccountName?: string,
): Promise<V1Pod[]> {
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels: { ...labels, team: 'shop' } },
          spec: {
            ...(serviceAccountName ? { serviceAccountName } : {}),
            containers: [{ name: 'app', image: `registry.invalid/${name}:1` }],
          },
        },
      },
    },
  });
  const pods = await runningPods(
    kc,
    namespace,
    Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    replicas,
  );
  // Budgets read the owner's availability: wait until the controller has counted every pod,
  // or a loaded machine shows a deficit the test did not cause.
  await eventually(
    async () => {
      const d = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace });
      assert.equal(d.status?.availableReplicas, replicas, `available ${d.status?.availableReplicas}/${replicas}`);
    },
    { timeoutMs: 60_000, what: `Deployment ${name} available` },
  );
  return pods;
}

export async function runningPods(
  kc: KubeConfig,
  namespace: string,
  labelSelector: string,
  count: number,
): Promise<V1Pod[]> {
  const core = kc.makeApiClient(CoreV1Api);
  return eventually(
    async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector });
      const running = list.items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
      assert.equal(running.length, count, `running ${running.length}/${count} (${labelSelector})`);
      return running;
    },
    { timeoutMs: 60_000, what: `${count} Running pods ${labelSelector}` },
  );
}

/** What observe/ would hand analytics for a real pod. */
export function healthOf(pod: V1Pod, over: Partial<PodHealth> = {}): PodHealth {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller);
  return {
    namespace: pod.metadata!.namespace!,
    name: pod.metadata!.name!,
    uid: pod.metadata!.uid!,
    labels: (pod.metadata?.labels ?? {}) as Record<string, string>,
    ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
    ...(owner ? { owner: { kind: owner.kind, name: owner.name, uid: owner.uid } } : {}),
    ...(pod.spec?.containers[0]?.image ? { image: pod.spec.containers[0].image } : {}),
    samples: [],
    events: [],
    ...over,
  };
}

export function failingSignal(p: PodHealth, at = Date.now()): Signal {
  const evidence = [0, 1, 2].map((i) => ({
    t: at - (2 - i) * 1000,
    ok: false,
    latencyMs: 2000,
    errorClass: 'Timeout',
  }));
  return {
    type: 'ConsecutiveFailures',
    pod: p,
    at,
    reason: 'ConsecutiveProbeFailures',
    message: '3 consecutive probe failures (threshold 3)',
    evidence,
    threat: false,
  };
}
