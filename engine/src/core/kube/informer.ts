import {
  makeInformer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { backoffDelay, type BackoffOptions } from '../backoff.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { KubeClient } from './client.js';
import type { KubeMetrics } from './metrics.js';

export type InformerEvent = 'add' | 'update' | 'delete';

/** The lifecycle steps a watch counts: a list, a connect, an object event, an error, a restart. */
export type WatchStep = 'list' | 'connect' | 'event' | 'error' | 'restart';

export interface WatchedResource<T> {
  /** Stops watching; the cache stays readable. */
  stop(): Promise<void>;
  list(): ReadonlyArray<T>;
  get(name: string, namespace?: string): T | undefined;
  /** Resolves after the first successful list. */
  synced: Promise<void>;
  /** Resolves when the first attempt is over: listed and watching, or failed (and a restart scheduled). */
  started: Promise<void>;
}

export interface InformerOptions<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** Collection path, e.g. /api/v1/namespaces/shop/pods */
  path: string;
  /** Lists the collection: the informer's first step, and again after 410 Gone. */
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  /** Names the watch in logs. */
  resource: string;
  onEvent?: (event: InformerEvent, obj: T) => void;
  logger: Logger;
  /** Counts each lifecycle step (the caller's metric). */
  count?: (step: WatchStep) => void;
  backoff?: Omit<BackoffOptions, 'random'>;
}

const DEFAULT_BACKOFF = { baseMs: 500, capMs: 30_000 };

/**
 * The one informer every watch in the engine runs. client-node's informer lists, then
 * watches, and relists by itself after 410 Gone; on any other error it emits `error` and
 * stays stopped. This restarts it with capped, full-jitter backoff (reset by the next object
 * event), counts each lifecycle step and logs each failure. The cache is bounded by what the
 * path and label selector admit.
 */
export function startInformer<T extends KubernetesObject>(opts: InformerOptions<T>): WatchedResource<T> {
  const { resource, logger } = opts;
  const count = (step: WatchStep): void => opts.count?.(step);
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((ok) => (markSynced = ok));
  const list = async (): Promise<KubernetesListObject<T>> => {
    const res = await opts.list();
    count('list');
    // The informer adds the listed items right after this resolves; synced follows them.
    setImmediate(markSynced);
    return res;
  };
  const inf = makeInformer<T>(opts.kubeConfig, opts.path, list, opts.labelSelector);
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  for (const ev of ['add', 'update', 'delete'] as const) {
    inf.on(ev, (obj: T) => {
      failures = 0;
      count('event');
      opts.onEvent?.(ev, obj);
    });
  }
  inf.on('connect', () => count('connect'));
  inf.on('error', (err: unknown) => {
    count('error');
    if (stopped) return;
    const delay = backoffDelay(failures++, opts.backoff ?? DEFAULT_BACKOFF);
    logger.warn({ resource, err: errorMessage(err), retryInMs: delay }, 'watch failed; restarting');
    timer = setTimeout(() => {
      count('restart');
      inf.start().catch(() => {
        /* the informer emits 'error' again, which schedules the next attempt */
      });
    }, delay);
    // A pending restart alone does not keep the process alive; stop() clears it anyway.
    timer.unref();
  });
  // client-node reports a failed list or watch through 'error' and resolves start() anyway.
  const started = inf.start().catch(() => {
    /* reported through the 'error' event */
  });
  return {
    synced,
    started,
    list: () => inf.list(),
    get: (name, namespace) => inf.get(name, namespace),
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await inf.stop();
    },
  };
}

/**
 * `startInformer` over the engine's raw client (which keeps unknown fields of Bulkhead's own
 * kinds), counted in `bulkhead_kube_watch_events_total{resource,event}`.
 */
export function watchResource<T>(opts: {
  client: KubeClient;
  /** Collection path, e.g. /apis/bulkhead.dev/v1alpha1/policysources */
  path: string;
  resource: string;
  labelSelector?: string;
  onEvent: (event: InformerEvent, obj: T) => void;
  logger: Logger;
  metrics?: KubeMetrics;
  backoff?: { baseMs: number; capMs: number };
}): WatchedResource<T> {
  const { client, path, resource, metrics } = opts;
  const watched = startInformer<KubernetesObject>({
    kubeConfig: client.kubeConfig,
    path,
    resource,
    logger: opts.logger,
    list: () =>
      client.request<KubernetesListObject<KubernetesObject>>({
        method: 'GET',
        path,
        query: { labelSelector: opts.labelSelector },
      }),
    onEvent: (ev, obj) => opts.onEvent(ev, obj as unknown as T),
    ...(opts.labelSelector !== undefined ? { labelSelector: opts.labelSelector } : {}),
    ...(metrics ? { count: (event) => metrics.watchLifecycle.inc({ resource, event }) } : {}),
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
  });
  return watched as unknown as WatchedResource<T>;
}
