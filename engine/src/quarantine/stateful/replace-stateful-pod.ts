import { API_VERSION, KIND, type Quarantine } from '../../core/api/index.js';
import { isConflict, isNotFound, KubeApiError, type KubeClient } from '../../core/kube/client.js';
import { objectPath, type ResourceResolver } from '../../core/kube/resources.js';
import { errorMessage } from '../../core/errors.js';
import { forensicSnapshot, logKey, logRequests, type PodForSnapshot } from './forensic-snapshot.js';

interface Deps {
  client: KubeClient;
  resolver: ResourceResolver;
  now: () => Date;
}

const podPath = (ns: string, name: string): string =>
  `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}`;

/**
 * Takes the forensic snapshot of a quarantined StatefulSet pod into a Secret owned by its
 * Quarantine (idempotent: a snapshot taken before a crash stands). Returns the Secret's name.
 */
export async function takeSnapshot(deps: Deps, q: Quarantine): Promise<string> {
  const ns = q.metadata.namespace!;
  const res = await deps.resolver.resolve(API_VERSION, KIND.Quarantine);
  // The owner reference needs the Quarantine's uid, which a freshly built CR does not carry.
  const uid =
    q.metadata.uid ??
    (await deps.client.request<Quarantine>({ method: 'GET', path: objectPath(res, q.metadata.name!, ns) })).metadata
      .uid!;
  const pod = await deps.client.request<PodForSnapshot>({ method: 'GET', path: podPath(ns, q.spec.pod.name) });
  const { requests, dropped } = logRequests(pod);
  const logs = new Map<string, string>();
  const missing = new Map<string, string>();
  for (const r of requests) {
    try {
      logs.set(
        logKey(r),
        await deps.client.request<string>({
          method: 'GET',
          path: `${podPath(ns, q.spec.pod.name)}/log`,
          query: {
            container: r.container,
            previous: r.previous ? 'true' : undefined,
            limitBytes: String(r.limitBytes),
            timestamps: 'true',
          },
          text: true,
        }),
      );
    } catch (err) {
      // A container that never started, or a kubelet that cannot be reached: the rest still count.
      missing.set(
        logKey(r),
        err instanceof KubeApiError ? `${err.code} ${err.status.message ?? ''}`.trim() : errorMessage(err),
      );
    }
  }
  const secret = forensicSnapshot({
    pod,
    quarantine: { name: q.metadata.name!, uid },
    logs,
    missing,
    dropped,
    takenAt: deps.now(),
  });
  try {
    await deps.client.request({
      method: 'POST',
      path: `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets`,
      body: secret,
    });
  } catch (err) {
    if (!isConflict(err)) throw err; // taken before a crash: the first snapshot is the one that counts
  }
  return secret.metadata.name;
}

/**
 * Deletes the quarantined pod so its StatefulSet recreates the ordinal (a StatefulSet cannot
 * create `web-0` while a pod of that name exists). Graceful, with the pod's own grace period:
 * a StatefulSet promises at most one pod per identity, and a force delete would let the
 * replacement start while the old containers still run on the node and hold its volumes. The
 * uid precondition never deletes a successor of the same name.
 */
export async function deleteForReplacement(deps: Deps, q: Quarantine): Promise<'deleted' | 'gone'> {
  try {
    await deps.client.request({
      method: 'DELETE',
      path: podPath(q.metadata.namespace!, q.spec.pod.name),
      body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: q.spec.pod.uid } },
    });
    return 'deleted';
  } catch (err) {
    // 404: gone already; 409: the name now belongs to the successor (the precondition held).
    if (isNotFound(err) || isConflict(err)) return 'gone';
    throw err;
  }
}
