import { API_VERSION, KIND, type HealthPolicy, type Quarantine } from '../core/api/index.js';
import { isNotFound, type KubeClient } from '../core/kube/client.js';
import type { EventRecorder } from '../core/kube/events.js';
import { objectPath, type ResourceResolver } from '../core/kube/resources.js';
import { planReattach } from './actions/detach-patch.js';
import { patchQuarantineStatus, podPath } from './executor.js';

export interface ReleaseDeps {
  client: KubeClient;
  resolver: ResourceResolver;
  events: EventRecorder;
  now: () => Date;
}

/**
 * Releases a quarantined pod: restores the labels it lost (it rejoins its workload and its
 * Services) and drops the quarantined label (the deny-all policy no longer selects it), or
 * deletes it when the policy says `onRelease: Delete`. Idempotent; a pod already gone is a
 * release too. The Quarantine stays, phase Released, as the cluster's record of it.
 */
export async function releaseQuarantine(
  deps: ReleaseDeps,
  q: Quarantine,
  why: string,
): Promise<'released' | 'deleted' | 'gone'> {
  const ns = q.metadata.namespace!;
  const pod = await deps.client
    .request<{ metadata: { uid: string; annotations?: Record<string, string> } }>({
      method: 'GET',
      path: podPath(ns, q.spec.pod.name),
    })
    .catch((e: unknown) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
  let outcome: 'released' | 'deleted' | 'gone' = 'gone';
  if (pod && pod.metadata.uid === q.spec.pod.uid) {
    if ((await onRelease(deps, q.spec.policy)) === 'Delete') {
      await deps.client
        .request({
          method: 'DELETE',
          path: podPath(ns, q.spec.pod.name),
          body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: q.spec.pod.uid } },
        })
        .catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
      outcome = 'deleted';
    } else {
      const patch = planReattach(pod.metadata.annotations ?? {});
      await deps.client.request({
        method: 'PATCH',
        path: podPath(ns, q.spec.pod.name),
        contentType: 'application/merge-patch+json',
        body: { metadata: { ...patch.metadata, uid: q.spec.pod.uid } },
      });
      outcome = 'released';
    }
    await deps.events.emit(
      { apiVersion: 'v1', kind: 'Pod', name: q.spec.pod.name, namespace: ns, uid: q.spec.pod.uid },
      'Normal',
      'Released',
      `${q.spec.policy}: ${why}`,
    );
  }
  await patchQuarantineStatus(deps, q, { phase: 'Released', releasedAt: deps.now().toISOString() }, 'Released', why);
  return outcome;
}

async function onRelease(deps: ReleaseDeps, policy: string): Promise<'Keep' | 'Delete'> {
  try {
    const res = await deps.resolver.resolve(API_VERSION, KIND.HealthPolicy);
    const p = await deps.client.request<HealthPolicy>({ method: 'GET', path: objectPath(res, policy) });
    return p.spec.action.onRelease ?? 'Keep';
  } catch {
    return 'Keep'; // the policy is gone: keep the pod, the safe default
  }
}
