import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../core/logger.js';
import { SIDECAR_CA_CONFIGMAP } from '../sidecar-env.js';

/**
 * Sidecars trust the engine through `BULKHEAD_CA_PATH`, projected from the ConfigMap
 * `bulkhead-ca` in their own namespace (a pod can only mount its namespace's ConfigMaps). This
 * keeps that ConfigMap, in every namespace a policy selects, equal to the current CA bundle,
 * so a CA rotation reaches running sidecars (the kubelet refreshes projected ConfigMaps).
 * Only changed or missing ConfigMaps are written; errors are per namespace and logged.
 */
export async function publishCaConfigMaps(
  kc: KubeConfig,
  namespaces: readonly string[],
  bundle: string,
  logger: Logger,
): Promise<number> {
  const core = kc.makeApiClient(CoreV1Api);
  let written = 0;
  for (const namespace of namespaces) {
    try {
      let current: { data?: Record<string, string>; metadata?: { resourceVersion?: string } } | undefined;
      try {
        current = await core.readNamespacedConfigMap({ namespace, name: SIDECAR_CA_CONFIGMAP });
      } catch (e) {
        if ((e as { code?: number }).code !== 404) throw e;
      }
      if (current?.data?.['ca.crt'] === bundle) continue;
      const body = {
        metadata: {
          name: SIDECAR_CA_CONFIGMAP,
          namespace,
          labels: { 'app.kubernetes.io/managed-by': 'bulkhead', 'app.kubernetes.io/component': 'admission' },
          ...(current?.metadata?.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
        },
        data: { 'ca.crt': bundle },
      };
      if (current) await core.replaceNamespacedConfigMap({ namespace, name: SIDECAR_CA_CONFIGMAP, body });
      else await core.createNamespacedConfigMap({ namespace, body });
      written++;
    } catch (err) {
      logger.warn({ err, namespace }, 'could not publish the CA bundle ConfigMap; retrying on the next pass');
    }
  }
  return written;
}
