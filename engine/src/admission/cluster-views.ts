import {
  CoreV1Api,
  CustomObjectsApi,
  makeInformer,
  type KubeConfig,
  type KubernetesObject,
  type V1Namespace,
} from '@kubernetes/client-node';
import { backoffDelay } from '../core/backoff.js';
import type { Logger } from '../core/logger.js';
import type { InjectablePolicy } from './inject/policy.js';
import type { Labels } from './inject/selector.js';

/**
 * The two cluster views the injector reads: namespace labels (an AdmissionRequest does not
 * carry them) and the HealthPolicies. Both are informers that restart themselves with backoff
 * (client-node's informer stays stopped after an error).
 */
function keepAlive(
  inf: { on(verb: 'error', cb: (err?: unknown) => void): void; start(): Promise<void> },
  what: string,
  logger: Logger,
): void {
  let attempt = 0;
  inf.on('error', (err) => {
    const delay = backoffDelay(attempt++, { baseMs: 500, capMs: 30_000 });
    logger.warn({ err, what, delay }, 'watch failed; restarting');
    setTimeout(
      () =>
        void inf
          .start()
          .then(() => (attempt = 0))
          .catch(() => {}),
      delay,
    ).unref();
  });
}

export interface NamespaceLabelsView {
  labels(namespace: string): Promise<Labels>;
  /** Every namespace the watch knows, with its labels. */
  list(): { name: string; labels: Labels }[];
  stop(): Promise<void>;
}

export async function watchNamespaceLabels(kc: KubeConfig, logger: Logger): Promise<NamespaceLabelsView> {
  const core = kc.makeApiClient(CoreV1Api);
  const inf = makeInformer<V1Namespace>(kc, '/api/v1/namespaces', () => core.listNamespace());
  keepAlive(inf, 'namespaces', logger);
  await inf.start();
  return {
    async labels(namespace) {
      const hit = inf.get(namespace);
      if (hit) return hit.metadata?.labels ?? {};
      // Created a moment ago and not yet seen by the watch: ask once.
      try {
        return (await core.readNamespace({ name: namespace })).metadata?.labels ?? {};
      } catch {
        return { 'kubernetes.io/metadata.name': namespace };
      }
    },
    list: () => inf.list().map((n) => ({ name: n.metadata?.name ?? '', labels: n.metadata?.labels ?? {} })),
    stop: () => inf.stop(),
  };
}

export interface PolicyView {
  list(): InjectablePolicy[];
  /** Called (debounced) whenever the set changes. */
  onChange(cb: () => void): void;
  stop(): Promise<void>;
}

export const HEALTHPOLICY_PATH = { group: 'bulkhead.dev', version: 'v1alpha1', plural: 'healthpolicies' } as const;

export async function watchHealthPolicies(kc: KubeConfig, logger: Logger, debounceMs = 50): Promise<PolicyView> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  type Obj = KubernetesObject & InjectablePolicy;
  const inf = makeInformer<Obj>(
    kc,
    `/apis/${HEALTHPOLICY_PATH.group}/${HEALTHPOLICY_PATH.version}/${HEALTHPOLICY_PATH.plural}`,
    () => custom.listClusterCustomObject({ ...HEALTHPOLICY_PATH }) as never,
  );
  keepAlive(inf, 'healthpolicies', logger);
  const listeners: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  const changed = (): void => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      for (const l of listeners) l();
    }, debounceMs);
  };
  for (const verb of ['add', 'update', 'delete'] as const) inf.on(verb, changed);
  await inf.start();
  return {
    list: () => inf.list() as InjectablePolicy[],
    onChange: (cb) => listeners.push(cb),
    stop: async () => {
      if (timer) clearTimeout(timer);
      await inf.stop();
    },
  };
}
