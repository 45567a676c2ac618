import { ANNOTATION } from '../../core/api/index.js';
import { SIDECAR_CONTAINER_NAME } from '../sidecar-env.js';
import type { InjectablePolicy } from './policy.js';

/**
 * An unpullable sidecar image must never stall rollouts silently (ADR 1010). A native sidecar
 * that cannot be pulled keeps its pod Pending (the app waits for its init containers), so the
 * leader looks for injected pods stuck that way; for their policy it pauses injection with a
 * condition on the HealthPolicy saying why, and deletes the stuck pods a controller owns so
 * their workload recreates them, now without the sidecar. After PAUSE_MS injection is tried
 * again (one more stuck pod re-opens the pause within a pass). Pure: the controller does the I/O.
 */
export const INJECTION_CONDITION = 'SidecarInjection';
export const UNPULLABLE_REASON = 'SidecarImageUnpullable';
export const INJECTING_REASON = 'Injecting';
export const PAUSE_MS = 10 * 60_000;

/** kubelet waiting reasons that mean the image will not come (kubelet/images/types.go). */
const PULL_FAILURES = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'RegistryUnavailable',
  'SignatureValidationFailed',
]);

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

/** The part of a pod the guard reads. */
export interface PendingPod {
  metadata: {
    namespace: string;
    name: string;
    uid: string;
    annotations?: Record<string, string>;
    ownerReferences?: { controller?: boolean; kind: string; name: string }[];
  };
  spec?: { initContainers?: { name: string; image?: string }[] };
  status?: {
    phase?: string;
    initContainerStatuses?: { name: string; state?: { waiting?: { reason?: string; message?: string } } }[];
  };
}

export interface StuckPod {
  namespace: string;
  name: string;
  uid: string;
  policy: string;
  image: string;
  reason: string;
  /** A controller recreates it (ReplicaSet, StatefulSet, Job, DaemonSet); a bare pod is only reported. */
  owned: boolean;
}

const quoted = (image: string): string => `"${image}"`;

/** An injected pod waiting on its sidecar's image, or undefined. */
export function stuckOnSidecarPull(pod: PendingPod): StuckPod | undefined {
  if (pod.status?.phase !== 'Pending') return undefined;
  const injected = pod.metadata.annotations?.[ANNOTATION.injected];
  if (!injected) return undefined;
  const waiting = pod.status.initContainerStatuses?.find((s) => s.name === SIDECAR_CONTAINER_NAME)?.state?.waiting;
  if (!waiting?.reason || !PULL_FAILURES.has(waiting.reason)) return undefined;
  let policy: string | undefined;
  try {
    policy = (JSON.parse(injected) as { policy?: string }).policy;
  } catch {
    return undefined;
  }
  if (!policy) return undefined;
  return {
    namespace: pod.metadata.namespace,
    name: pod.metadata.name,
    uid: pod.metadata.uid,
    policy,
    image: pod.spec?.initContainers?.find((c) => c.name === SIDECAR_CONTAINER_NAME)?.image ?? '',
    reason: waiting.reason,
    owned: (pod.metadata.ownerReferences ?? []).some((o) => o.controller === true),
  };
}

const conditionOf = (p: InjectablePolicy): Condition | undefined =>
  p.status?.conditions?.find((c) => c.type === INJECTION_CONDITION) as Condition | undefined;

/** Why injection of `image` by this policy is paused now, or undefined (the webhook's check). */
export function injectionPaused(policy: InjectablePolicy, image: string, now: number): string | undefined {
  const c = conditionOf(policy);
  if (!c || c.status !== 'False' || c.reason !== UNPULLABLE_REASON || !c.message.includes(quoted(image)))
    return undefined;
  if (now - Date.parse(c.lastTransitionTime) > PAUSE_MS) return undefined;
  return `injection paused: ${c.message}`;
}

/** When each running pause of these policies ends (ms since the epoch); empty when none runs. */
export function pauseEnds(policies: readonly InjectablePolicy[], image: string, now: number): number[] {
  return policies
    .filter((p) => injectionPaused(p, image, now) !== undefined)
    .map((p) => Date.parse(conditionOf(p)!.lastTransitionTime) + PAUSE_MS);
}

export interface PullGuardPlan {
  /** Conditions to write, by policy name. */
  conditions: Map<string, Condition>;
  /** Stuck pods to delete so their controllers recreate them (uncovered by the pause, they get no sidecar). */
  delete: StuckPod[];
}

/**
 * One pass: stuck pods → conditions to write and pods to delete. A condition is written only
 * when it changes (pausing, or resuming after the pause with nothing stuck), so passes are
 * quiet while nothing happens.
 */
export function planPullGuard(
  stuck: readonly StuckPod[],
  policies: readonly InjectablePolicy[],
  image: string,
  now: number,
): PullGuardPlan {
  const byPolicy = new Map<string, StuckPod[]>();
  for (const s of stuck) byPolicy.set(s.policy, [...(byPolicy.get(s.policy) ?? []), s]);
  const conditions = new Map<string, Condition>();
  const time = new Date(now).toISOString();
  for (const p of policies) {
    const name = p.metadata.name;
    const pods = byPolicy.get(name) ?? [];
    const current = conditionOf(p);
    if (pods.length > 0) {
      const images = [...new Set(pods.map((s) => s.image))];
      const bare = pods.filter((s) => !s.owned);
      const stillPaused = injectionPaused(p, images[0]!, now) !== undefined;
      // A pause already running keeps its start, so an ongoing failure does not extend it forever.
      const since = stillPaused ? current!.lastTransitionTime : time;
      const shown = pods.slice(0, 5).map((s) => `${s.namespace}/${s.name} (${s.reason})`);
      const message =
        `sidecar image ${images.map(quoted).join(', ')} cannot be pulled: ${shown.join(', ')}` +
        `${pods.length > shown.length ? ` and ${pods.length - shown.length} more` : ''}. ` +
        `New pods of this policy start without the sidecar until ${new Date(Date.parse(since) + PAUSE_MS).toISOString()}, ` +
        `then injection is tried again; stuck pods a controller owns are deleted so they start without it` +
        `${bare.length > 0 ? ` (${bare.length} bare pod(s) left for you to delete)` : ''}. ` +
        `Fix: make the image pullable, or install with --sidecar-image <ref>.`;
      if (!stillPaused || current?.message !== message)
        conditions.set(name, {
          type: INJECTION_CONDITION,
          status: 'False',
          reason: UNPULLABLE_REASON,
          message,
          lastTransitionTime: since,
        });
    } else if (current?.status === 'False' && current.reason === UNPULLABLE_REASON && !injectionPaused(p, image, now)) {
      conditions.set(name, {
        type: INJECTION_CONDITION,
        status: 'True',
        reason: INJECTING_REASON,
        message: `injecting sidecar image ${quoted(image)} again after the pause`,
        lastTransitionTime: time,
      });
    }
  }
  return { conditions, delete: stuck.filter((s) => s.owned && policies.some((p) => p.metadata.name === s.policy)) };
}
