import type { Counter } from 'prom-client';
import { API_VERSION, GROUP, KIND, LABEL, MANAGED_BY, PLURAL, VERSION, type Quarantine } from '../core/api/index.js';
import { serverSideApply } from '../core/kube/apply.js';
import { isNotFound, type KubeClient } from '../core/kube/client.js';
import type { EventRecorder } from '../core/kube/events.js';
import { watchResource, type WatchedResource } from '../core/kube/informer.js';
import type { KubeMetrics } from '../core/kube/metrics.js';
import { objectPath, type ResourceResolver } from '../core/kube/resources.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { ISOLATION_POLICY_NAME, isolationNetworkPolicy } from './actions/isolation-policy.js';
import { podPath } from './executor.js';
import {
  isHeld,
  networkPolicyRepairPatch,
  networkPolicyTampering,
  podRepairPatch,
  podTampering,
  type HeldPod,
  type LiveNetworkPolicy,
  type Tampering,
  type TamperKind,
} from './isolation/tamper.js';

export interface IsolationKeeperOptions {
  client: KubeClient;
  resolver: ResourceResolver;
  events: EventRecorder;
  logger: Logger;
  /** Only the leader repairs; every replica watches, so a new leader starts warm. */
  isLeader(): boolean;
  /** `bulkhead_quarantine_tamper_total{what}`. */
  tampered: Counter<'what'>;
  /** Every held Quarantine is checked this often, whatever the watches said (missed events). */
  resyncMs: number;
  metrics?: KubeMetrics;
}

export interface IsolationKeeper {
  /**
   * Runs `fn` with no check in flight and none starting until it is done: a release (git or
   * releaseAfter) takes the pod out of isolation in two writes (pod, then status), and a check
   * between them would re-isolate a pod being released.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** Checks every held Quarantine now (and returns when done). */
  resync(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Keeps held pods isolated (ADR 1410): watches the Quarantines, the quarantined pods (by their
 * label: a pod whose label is removed leaves the selection, which the watch reports as a
 * delete) and the engine's NetworkPolicies (by managed-by label), and on any change, and every
 * `resyncMs`, compares each Isolated Quarantine's pod and namespace with what the quarantine
 * did. Anything undone is put back at once, with a Warning Event `IsolationTampered` on the
 * Quarantine and the metric. The pending set holds each Quarantine at most once, so it is
 * bounded by the Quarantines the cluster has; nothing is dropped.
 */
export function startIsolationKeeper(opts: IsolationKeeperOptions): IsolationKeeper {
  const { client, resolver, logger } = opts;
  const pending = new Set<string>(); // "<ns>/<name>" of Quarantines to check
  let draining: Promise<void> | undefined;
  let lock: Promise<unknown> = Promise.resolve();
  let stopped = false;

  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = lock.then(fn, fn);
    lock = run.catch(() => {});
    return run;
  };

  const enqueue = (q: Quarantine | undefined): void => {
    if (stopped || !q || !isHeld(q) || !opts.isLeader()) return;
    pending.add(`${q.metadata.namespace}/${q.metadata.name}`);
    draining ??= drain().finally(() => (draining = undefined));
  };
  const drain = async (): Promise<void> => {
    // Let the events of one burst (label + netpol edits) land in the set before the first check.
    await new Promise((ok) => setImmediate(ok));
    while (pending.size > 0 && !stopped) {
      const key = pending.values().next().value!;
      pending.delete(key);
      const [ns, name] = key.split('/') as [string, string];
      await exclusive(() => check(ns, name)).catch((err: unknown) =>
        logger.warn({ err: errorMessage(err), quarantine: key }, 'isolation check failed; retried at the next resync'),
      );
    }
  };

  const quarantines: WatchedResource<Quarantine> = watchResource<Quarantine>({
    client,
    path: `/apis/${GROUP}/${VERSION}/${PLURAL.Quarantine}`,
    resource: 'quarantines-isolation',
    onEvent: (ev, q) => ev !== 'delete' && enqueue(q),
    logger,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
  const byPod = (uid: string | undefined): Quarantine | undefined =>
    quarantines.list().find((q) => q.spec.pod.uid === uid && isHeld(q));
  const pods = watchResource<HeldPod & { metadata: { uid?: string } }>({
    client,
    path: '/api/v1/pods',
    resource: 'pods-quarantined',
    labelSelector: `${LABEL.quarantined}=true`,
    onEvent: (_ev, pod) => enqueue(byPod(pod.metadata.uid)),
    logger,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
  const policies = watchResource<{ metadata: { name?: string; namespace?: string } }>({
    client,
    path: '/apis/networking.k8s.io/v1/networkpolicies',
    resource: 'networkpolicies-isolation',
    labelSelector: `${LABEL.managedBy}=${MANAGED_BY}`,
    onEvent: (_ev, np) => {
      if (np.metadata.name !== ISOLATION_POLICY_NAME) return;
      for (const q of quarantines.list()) if (q.metadata.namespace === np.metadata.namespace) enqueue(q);
    },
    logger,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });

  const check = async (ns: string, name: string): Promise<void> => {
    if (!opts.isLeader()) return;
    const res = await resolver.resolve(API_VERSION, KIND.Quarantine);
    // Fresh, not from the cache: a release that just finished has said Released.
    const q = await getOrUndefined<Quarantine>(client, objectPath(res, name, ns));
    if (!q || !isHeld(q)) return;
    const found: Tampering[] = [];
    const pod = await getOrUndefined<HeldPod>(client, podPath(ns, q.spec.pod.name));
    if (pod && pod.metadata.uid === q.spec.pod.uid) {
      const onPod = podTampering(q, pod);
      if (onPod.length > 0) {
        await client.request({
          method: 'PATCH',
          path: podPath(ns, q.spec.pod.name),
          contentType: 'application/merge-patch+json',
          body: podRepairPatch(q, pod),
        });
        found.push(...onPod);
      }
    }
    const npPath = `/apis/networking.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/networkpolicies/${ISOLATION_POLICY_NAME}`;
    const live = await getOrUndefined<LiveNetworkPolicy>(client, npPath);
    const onPolicy = networkPolicyTampering(ns, live);
    if (onPolicy) {
      if (!live) await serverSideApply(client, resolver, isolationNetworkPolicy(ns) as never, { force: true });
      else
        await client.request({
          method: 'PATCH',
          path: npPath,
          contentType: 'application/json-patch+json',
          body: networkPolicyRepairPatch(ns, live),
        });
      found.push(onPolicy);
    }
    if (found.length === 0) return;
    for (const kind of new Set<TamperKind>(found.map((f) => f.kind))) opts.tampered.inc({ what: kind });
    const what = found.map((f) => f.detail).join('; ');
    logger.warn(
      { quarantine: `${ns}/${name}`, pod: q.spec.pod.name, tampered: what },
      'isolation tampered with; restored',
    );
    await opts.events.emit(
      {
        apiVersion: API_VERSION,
        kind: KIND.Quarantine,
        name,
        namespace: ns,
        ...(q.metadata.uid ? { uid: q.metadata.uid } : {}),
      },
      'Warning',
      'IsolationTampered',
      `${what}; restored. The pod is released only by removing or reverting its record in git (or releaseAfter).`,
    );
  };

  const resync = async (): Promise<void> => {
    for (const q of quarantines.list()) enqueue(q);
    await draining;
  };
  const timer = setInterval(() => void resync(), opts.resyncMs);
  timer.unref();
  // A replica that becomes leader checks everything at once, not at its next resync.
  let leading = false;
  const leaderPoll = setInterval(() => {
    const now = opts.isLeader();
    if (now && !leading) void resync();
    leading = now;
  }, 1000);
  leaderPoll.unref();

  return {
    exclusive,
    resync,
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearInterval(leaderPoll);
      await Promise.all([quarantines.stop(), pods.stop(), policies.stop()]);
      await draining;
    },
  };
}

async function getOrUndefined<T>(client: KubeClient, path: string): Promise<T | undefined> {
  try {
    return await client.request<T>({ method: 'GET', path });
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}
