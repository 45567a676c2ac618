import { makeInformer, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { backoffDelay } from '../backoff.js';
import type { Logger } from '../logger.js';
import type { KubeClient } from './client.js';
import type { KubeMetrics } from './metrics.js';
import { errorMessage } from '../errors.js';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface WatchedResource<T> {
  /** Stops watching; the cache stays readable. */
  stop(): Promise<void>;
  list(): ReadonlyArray<T>;
  get(name: string, namespace?: string): T | undefined;
  /** Resolves after the first successful list. */
  synced: Promise<void>;
}

/**
 * client-node's informer lists, then watches, and relists on 410 Gone; on any other error it
 * emits `error` and stays stopped. This wrapper restarts it with capped, jittered backoff and
 * counts each lifecycle step (connect, event, error, restart) in
 * `bulkhead_kube_watch_events_total{resource,event}`. The cache is bounded by what the
 * label selector admits.
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
  const { client, path, resource, logger, metrics } = opts;
  const count = (event: string): void => metrics?.watchLifecycle.inc({ resource, event });
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((ok) => (markSynced = ok));
  const list = async (): Promise<KubernetesListObject<KubernetesObject>> => {
    const res = await client.request<KubernetesListObject<KubernetesObject>>({
      method: 'GET',
      path,
      query: { labelSelector: opts.labelSelector },
    });
    count('list');
    // The informer adds the listed items right after this resolves; synced follows them.
    setImmediate(markSynced);
    return res;
  };
  const inf = makeInformer<KubernetesObject>(client.kubeConfig, path, list, opts.labelSelector);
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  for (const ev of ['add', 'update', 'delete'] as const) {
    inf.on(ev, (obj: KubernetesObject) => {
      failures = 0;
      count('event');
      opts.onEvent(ev, obj as unknown as T);
    });
  }
  inf.on('connect', () => count('connect'));
  inf.on('error', (err: unknown) => {
    count('error');
    if (stopped) return;
    const delay = backoffDelay(failures++, opts.backoff ?? { baseMs: 500, capMs: 30_000 });
    logger.warn({ resource, err: errorMessage(err), retryInMs: delay }, 'watch failed; restarting');
    timer = setTimeout(() => {
      count('restart');
      inf.start().catch(() => {
        /* reported through the error handler */
      });
    }, delay);
  });
  inf.start().catch(() => {
    /* reported through the error handler */
  });
  return {
    synced,
    list: () => inf.list() as unknown as ReadonlyArray<T>,
    get: (name, namespace) => inf.get(name, namespace) as unknown as T | undefined,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await inf.stop();
    },
  };
}
