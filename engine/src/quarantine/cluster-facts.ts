import { API_VERSION, KIND, type Quarantine } from '../core/api/index.js';
import type { KubeClient } from '../core/kube/client.js';
import { isNotFound } from '../core/kube/client.js';
import type { ResourceResolver } from '../core/kube/resources.js';
import { collectionPath, objectPath } from '../core/kube/resources.js';
import type { PlannedAction } from '../analytics/index.js';
import { workloadKey, type WorkloadFacts } from './budget.js';
import { selectorKeys } from './actions/detach-patch.js';

/** apiVersion of the owner kinds whose selector we can read. */
const OWNER_API: Record<string, string> = {
  ReplicaSet: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  Job: 'batch/v1',
};

interface Owner {
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string }[] };
  };
  status?: { availableReplicas?: number; numberAvailable?: number; desiredNumberScheduled?: number };
}

export async function readOwner(
  client: KubeClient,
  resolver: ResourceResolver,
  namespace: string,
  owner: { kind: string; name: string },
): Promise<Owner | undefined> {
  const apiVersion = OWNER_API[owner.kind];
  if (!apiVersion) return undefined;
  const res = await resolver.resolve(apiVersion, owner.kind);
  try {
    return await client.request<Owner>({ method: 'GET', path: objectPath(res, owner.name, namespace) });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function ownerSelectorKeys(
  client: KubeClient,
  resolver: ResourceResolver,
  namespace: string,
  owner: { kind: string; name: string } | undefined,
): Promise<string[]> {
  return owner ? selectorKeys((await readOwner(client, resolver, namespace, owner))?.spec?.selector) : [];
}

export async function listQuarantines(
  client: KubeClient,
  resolver: ResourceResolver,
  namespace?: string,
): Promise<Quarantine[]> {
  const res = await resolver.resolve(API_VERSION, KIND.Quarantine);
  const list = await client.request<{ items: Quarantine[] }>({ method: 'GET', path: collectionPath(res, namespace) });
  return list.items;
}

// A pod held out of its workload. A replaced StatefulSet pod (ADR 1031) is gone and its
// ordinal back: it no longer costs its workload budget, though its record stands until released.
const active = (q: Quarantine): boolean =>
  q.spec.mode === 'Enforce' && q.status?.phase !== 'Released' && !q.spec.actions?.some((a) => a.type === 'Replace');

/**
 * What the budget needs to know, read from the cluster: per workload, desired replicas and
 * how many pods are out of service (the larger of the owner's own availability deficit and
 * the pods Bulkhead already holds), and per namespace, the actions of the last hour.
 */
export async function gatherBudgetFacts(
  client: KubeClient,
  resolver: ResourceResolver,
  actions: readonly PlannedAction[],
  now: Date,
): Promise<{
  workloads: Map<string, WorkloadFacts>;
  /** The two sides of `unavailable`, for adding budget claims (ADR 1501). */
  parts: Map<string, { replicas: number; held: number; deficit: number }>;
  namespaceActionsLastHour: Map<string, number>;
  held: Map<string, Quarantine>;
  /** Pods with a Quarantine in any phase. */
  quarantined: Set<string>;
}> {
  const workloads = new Map<string, WorkloadFacts>();
  const parts = new Map<string, { replicas: number; held: number; deficit: number }>();
  const namespaceActionsLastHour = new Map<string, number>();
  const namespaces = [...new Set(actions.map((a) => a.pod.namespace))];
  const byNs = new Map<string, Quarantine[]>();
  for (const ns of namespaces) byNs.set(ns, await listQuarantines(client, resolver, ns));
  const hourAgo = now.getTime() - 3_600_000;
  for (const ns of namespaces) {
    namespaceActionsLastHour.set(
      ns,
      byNs.get(ns)!.filter((q) => q.spec.mode === 'Enforce' && Date.parse(q.spec.time) > hourAgo).length,
    );
  }
  for (const a of actions) {
    const key = workloadKey(a);
    if (workloads.has(key)) continue;
    const held = byNs
      .get(a.pod.namespace)!
      .filter((q) => active(q) && (q.spec.owner?.uid ?? q.spec.pod.uid) === key).length;
    if (!a.pod.owner) {
      workloads.set(key, { replicas: 1, unavailable: held });
      parts.set(key, { replicas: 1, held, deficit: 0 });
      continue;
    }
    const owner = await readOwner(client, resolver, a.pod.namespace, a.pod.owner);
    const replicas = owner?.spec?.replicas ?? owner?.status?.desiredNumberScheduled ?? 1;
    const available = owner?.status?.availableReplicas ?? owner?.status?.numberAvailable ?? replicas;
    // A failing pod is usually NotReady already, so the owner counts it unavailable: acting on
    // it takes nothing more out of service. Counting it again would make every quarantine of a
    // failing pod exceed maxUnavailable 1 (seen on real nodes), so the verdict's own NotReady
    // pods are not part of the deficit.
    const candidates = actions.filter((x) => workloadKey(x) === key);
    let notReady = 0;
    for (const c of candidates) if (!(await podReady(client, c.pod.namespace, c.pod.name, c.pod.uid))) notReady++;
    const deficit = replicas - available - notReady;
    workloads.set(key, { replicas, unavailable: Math.max(held, deficit) });
    parts.set(key, { replicas, held, deficit });
  }
  // Pods that already have a Quarantine (any phase but Released): a repeat verdict is a no-op.
  const held = new Map<string, Quarantine>();
  const quarantined = new Set<string>();
  for (const qs of byNs.values())
    for (const q of qs) {
      quarantined.add(q.spec.pod.uid);
      if (q.status?.phase !== 'Released') held.set(q.spec.pod.uid, q);
    }
  return { workloads, parts, namespaceActionsLastHour, held, quarantined };
}

/** Whether the pod (this uid) is Ready now; a pod gone or replaced counts as not Ready. */
async function podReady(client: KubeClient, namespace: string, name: string, uid: string): Promise<boolean> {
  try {
    const pod = await client.request<{
      metadata: { uid: string };
      status?: { conditions?: { type: string; status: string }[] };
    }>({ method: 'GET', path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}` });
    return (
      pod.metadata.uid === uid &&
      pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true
    );
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
