import { CoreV1Api, type KubeConfig, type V1Namespace } from '@kubernetes/client-node';
import { startInformer } from '../core/kube/informer.js';
import type { Logger } from '../core/logger.js';
import type { Labels } from './inject/selector.js';

/**
 * The cluster view the injector reads beside the HealthPolicies (which come from the engine's
 * one HealthPolicy watch, runtime/health-policy-watch.ts): namespace labels, which an
 * AdmissionRequest does not carry. It is the engine's restarting informer (client-node's own
 * stays stopped after an error).
 */
export interface NamespaceLabelsView {
  labels(namespace: string): Promise<Labels>;
  /** Every namespace the watch knows, with its labels. */
  list(): { name: string; labels: Labels }[];
  stop(): Promise<void>;
}

/** `onNamespace`: each namespace the watch sees appear or change (the CA publisher's cue). */
export async function watchNamespaceLabels(
  kc: KubeConfig,
  logger: Logger,
  onNamespace?: (ns: V1Namespace) => void,
): Promise<NamespaceLabelsView> {
  const core = kc.makeApiClient(CoreV1Api);
  const inf = startInformer<V1Namespace>({
    kubeConfig: kc,
    path: '/api/v1/namespaces',
    resource: 'namespaces',
    logger,
    list: () => core.listNamespace(),
    ...(onNamespace ? { onEvent: (ev, ns) => void (ev !== 'delete' && onNamespace(ns)) } : {}),
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
