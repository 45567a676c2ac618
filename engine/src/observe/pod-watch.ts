import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { ANNOTATION } from '../core/api/index.js';
import { startInformer } from '../core/kube/informer.js';
import type { Logger } from '../core/logger.js';
import type { HealthStore } from './health-store.js';
import type { ObserveMetrics } from './metrics.js';
import { podEvents } from './pod-events.js';

export interface PodWatchOptions {
  kubeConfig: KubeConfig;
  store: HealthStore;
  logger: Logger;
  metrics?: ObserveMetrics;
  /** Watch one namespace; all namespaces when unset. */
  namespace?: string;
  /** Only pods matching this label selector (the policies' selectors, or the injection label). */
  labelSelector?: string;
  /** Further filter (e.g. "a policy matches this pod"); every listed pod when unset. */
  matches?: (pod: V1Pod) => boolean;
  backoff?: { baseMs: number; capMs: number };
  now?: () => Date;
}

/** Pods the admission webhook gave a sidecar (its `bulkhead.dev/injected` annotation): a `matches` for the watch. */
export const injectedBySidecar = (pod: V1Pod): boolean =>
  pod.metadata?.annotations?.[ANNOTATION.injected] !== undefined;

export interface PodWatch {
  synced: Promise<void>;
  stop(): void;
}

/**
 * Feeds pod lifecycle (restarts, OOM kills, CrashLoopBackOff, readiness) into the health
 * windows, through the engine's one restarting informer; it keeps the last seen version of
 * each matched pod (bounded by the label selector) to diff against.
 */
export function watchPods(opts: PodWatchOptions): PodWatch {
  const core = opts.kubeConfig.makeApiClient(CoreV1Api);
  const selector = opts.labelSelector ? { labelSelector: opts.labelSelector } : {};
  const seen = new Map<string, V1Pod>();
  const now = opts.now ?? (() => new Date());

  const onPod = (pod: V1Pod): void => {
    const uid = pod.metadata?.uid;
    if (!uid || (opts.matches && !opts.matches(pod))) return;
    const ref = { namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid };
    for (const e of podEvents(seen.get(uid), pod, now())) {
      opts.store.addEvent(ref, e);
      opts.metrics?.podEvents.inc({ type: e.type });
    }
    seen.set(uid, pod);
  };
  const onDelete = (pod: V1Pod): void => {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    seen.delete(uid);
    opts.store.remove(uid);
  };
  const metrics = opts.metrics;
  const inf = startInformer<V1Pod>({
    kubeConfig: opts.kubeConfig,
    path: opts.namespace ? `/api/v1/namespaces/${opts.namespace}/pods` : '/api/v1/pods',
    resource: 'pods',
    logger: opts.logger,
    list: () =>
      opts.namespace
        ? core.listNamespacedPod({ namespace: opts.namespace, ...selector })
        : core.listPodForAllNamespaces(selector),
    onEvent: (ev, pod) => (ev === 'delete' ? onDelete(pod) : onPod(pod)),
    ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
    ...(metrics ? { count: (event) => metrics.podWatch.inc({ event }) } : {}),
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
  });
  return {
    synced: inf.synced,
    stop(): void {
      void inf.stop();
    },
  };
}
