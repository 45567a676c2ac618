import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1Namespace,
} from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../core/api/index.js';
import { startInformer } from '../core/kube/informer.js';
import type { Logger } from '../core/logger.js';
import type { InjectablePolicy } from './inject/policy.js';
import type { Labels } from './inject/selector.js';

/**
 * The two cluster views the injector reads: namespace labels (an AdmissionRequest does not
 * carry them) and the HealthPolicies. Both are the engine's restarting informer (client-node's
 * own stays stopped after an error).
 */
export interface NamespaceLabelsView {
  labels(namespace: string): Promise<Labels>;
  /** Every namespace the watch knows, with its labels. */
  list(): { name: string; labels: Labels }[];
  stop(): Promise<void>;
}

export async function watchNamespaceLabels(kc: KubeConfig, logger: Logger): Promise<NamespaceLabelsView> {
  const core = kc.makeApiClient(CoreV1Api);
  const inf = startInformer<V1Namespace>({
    kubeConfig: kc,
    path: '/api/v1/namespaces',
    resource: 'namespaces',
    logger,
    list: () => core.listNamespace(),
  });
  await inf.started;
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

export async function watchHealthPolicies(kc: KubeConfig, logger: Logger, debounceMs = 50): Promise<PolicyView> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  type Obj = KubernetesObject & InjectablePolicy;
  const listeners: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  const changed = (): void => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      for (const l of listeners) l();
    }, debounceMs);
  };
  const inf = startInformer<Obj>({
    kubeConfig: kc,
    path: `/apis/${GROUP}/${VERSION}/${PLURAL.HealthPolicy}`,
    resource: PLURAL.HealthPolicy,
    logger,
    list: () =>
      custom.listClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL.HealthPolicy,
      }) as Promise<KubernetesListObject<Obj>>,
    onEvent: changed,
  });
  await inf.started;
  return {
    list: () => [...inf.list()],
    onChange: (cb) => listeners.push(cb),
    stop: async () => {
      if (timer) clearTimeout(timer);
      await inf.stop();
    },
  };
}
