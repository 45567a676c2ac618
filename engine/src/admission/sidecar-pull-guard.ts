import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../core/api/index.js';
import { errorMessage } from '../core/errors.js';
import { isNotFound, type KubeClient } from '../core/kube/client.js';
import type { Logger } from '../core/logger.js';
import type { InjectablePolicy } from './inject/policy.js';
import { planPullGuard, stuckOnSidecarPull, type PendingPod, type StuckPod } from './inject/pull-pause.js';

/** Field manager of the SidecarInjection condition: it owns that one list entry, nothing else of the status. */
const FIELD_MANAGER = 'bulkhead-injection';
/** Pending pods examined per pass; more wait for the next pass (a cluster with that many Pending pods has other trouble). */
const PAGE = 500;

export interface SidecarPullGuardOptions {
  client: KubeClient;
  /** The HealthPolicies as watched (with their status). */
  policies(): InjectablePolicy[];
  /** The image the webhook injects now. */
  image: string;
  isLeader(): boolean;
  logger: Logger;
  intervalMs?: number;
  now?(): number;
}

/**
 * The leader's watch on injected pods that cannot pull their sidecar (ADR 1010): every
 * interval it lists Pending pods, pauses injection for the policies whose pods are stuck (a
 * condition on the HealthPolicy, which every replica's webhook reads), and deletes the stuck
 * pods a controller owns so they come back without the sidecar.
 */
export function startSidecarPullGuard(opts: SidecarPullGuardOptions): {
  runOnce(): Promise<{ paused: string[]; deleted: StuckPod[] }>;
  stop(): void;
} {
  const now = opts.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<{ paused: string[]; deleted: StuckPod[] }> | undefined;
  let stopped = false;
  const pass = async (): Promise<{ paused: string[]; deleted: StuckPod[] }> => {
    if (!opts.isLeader()) return { paused: [], deleted: [] };
    const pending = await opts.client.request<{ items: PendingPod[] }>({
      method: 'GET',
      path: '/api/v1/pods',
      query: { fieldSelector: 'status.phase=Pending', limit: String(PAGE) },
    });
    const stuck = pending.items.map(stuckOnSidecarPull).filter((s): s is StuckPod => s !== undefined);
    const plan = planPullGuard(stuck, opts.policies(), opts.image, now());
    const paused: string[] = [];
    for (const [name, condition] of plan.conditions) {
      await opts.client.request({
        method: 'PATCH',
        path: `/apis/${GROUP}/${VERSION}/${PLURAL.HealthPolicy}/${encodeURIComponent(name)}/status`,
        query: { fieldManager: FIELD_MANAGER, force: 'true' },
        contentType: 'application/apply-patch+yaml',
        body: {
          apiVersion: API_VERSION,
          kind: KIND.HealthPolicy,
          metadata: { name },
          status: { conditions: [condition] },
        },
      });
      if (condition.status === 'False') paused.push(name);
      opts.logger.warn({ policy: name, reason: condition.reason, message: condition.message }, 'sidecar injection');
    }
    const deleted: StuckPod[] = [];
    for (const pod of plan.delete) {
      try {
        // The uid precondition: never the pod's replacement of the same name (a StatefulSet's).
        await opts.client.request({
          method: 'DELETE',
          path: `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}`,
          body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: pod.uid } },
        });
        deleted.push(pod);
      } catch (err) {
        if (!isNotFound(err))
          opts.logger.warn(
            { pod: `${pod.namespace}/${pod.name}`, err: errorMessage(err) },
            'delete of a pod stuck on its sidecar image failed',
          );
      }
    }
    if (deleted.length > 0)
      opts.logger.warn(
        { pods: deleted.map((p) => `${p.namespace}/${p.name}`) },
        'deleted pods stuck pulling the sidecar image; their controllers recreate them without it',
      );
    return { paused, deleted };
  };
  const runOnce = () =>
    (running ??= pass().finally(() => {
      running = undefined;
    }));
  const tick = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      runOnce()
        .catch((err: unknown) => opts.logger.warn({ err: errorMessage(err) }, 'sidecar pull guard pass failed'))
        .finally(tick);
    }, opts.intervalMs ?? 10_000);
  };
  tick();
  return {
    runOnce,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
