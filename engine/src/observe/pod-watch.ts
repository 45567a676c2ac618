import { CoreV1Api, makeInformer, type KubeConfig, type V1Pod, type V1PodList } from '@kubernetes/client-node';
import { ANNOTATION } from '../core/api/index.js';
import { backoffDelay } from '../core/backoff.js';
import type { Logger } from '../core/logger.js';
import type { HealthStore } from './health-store.js';
import type { ObserveMetrics } from './metrics.js';
import { podEvents } from './pod-events.js';
import { errorMessage } from '../core/errors.js';

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
 * windows. client-node's informer stops for good on any error other than 410, so this
 * restarts it with full-jitter backoff; it keeps the last seen version of each matched pod
 * (bounded by the label selector) to diff against.
 */
export function watchPods(opts: PodWatchOptions): PodWatch {
  const core = opts.kubeConfig.makeApiClient(CoreV1Api);
  const path = opts.namespace ? `/api/v1/namespaces/${opts.namespace}/pods` : '/api/v1/pods';
  const selector = opts.labelSelector ? { labelSelector: opts.labelSelector } : {};
  const list = async (): Promise<V1PodList> => {
    const res = opts.namespace
      ? await core.listNamespacedPod({ namespace: opts.namespace, ...selector })
      : await core.listPodForAllNamespaces(selector);
    count('list');
    // The informer adds the listed pods right after this resolves; synced follows them.
    setImmediate(() => markSynced());
    return res;
  };
  const inf = makeInformer<V1Pod>(opts.kubeConfig, path, list, opts.labelSelector);
  const seen = new Map<string, V1Pod>();
  const now = opts.now ?? (() => new Date());
  const backoff = opts.backoff ?? { baseMs: 500, capMs: 30_000 };
  const count = (event: string): void => opts.metrics?.podWatch.inc({ event });
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((ok) => (markSynced = ok));

  const onPod = (pod: V1Pod): void => {
    const uid = pod.metadata?.uid;
    if (!uid || (opts.matches && !opts.matches(pod))) return;
    failures = 0;
    count('event');
    const ref = { namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid };
    for (const e of podEvents(seen.get(uid), pod, now())) {
      opts.store.addEvent(ref, e);
      opts.metrics?.podEvents.inc({ type: e.type });
    }
    seen.set(uid, pod);
  };
  inf.on('add', onPod);
  inf.on('update', onPod);
  inf.on('delete', (pod: V1Pod) => {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    seen.delete(uid);
    opts.store.remove(uid);
  });
  inf.on('connect', () => count('connect'));
  inf.on('error', (err: unknown) => {
    count('error');
    if (stopped) return;
    const delay = backoffDelay(failures++, backoff);
    opts.logger.warn({ err: errorMessage(err), retryInMs: delay }, 'pod watch failed; restarting');
    timer = setTimeout(() => {
      count('restart');
      inf.start().catch(() => {
        /* the informer emits 'error' again, which schedules the next attempt */
      });
    }, delay);
  });
  inf.start().catch(() => {
    /* reported through the 'error' event */
  });
  return {
    synced,
    stop(): void {
      stopped = true;
      clearTimeout(timer);
      void inf.stop();
    },
  };
}
