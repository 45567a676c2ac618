import { KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { WebhookConfiguration } from './webhook-config.js';
import { BREAK_GLASS_ANNOTATION } from './break-glass.js';

/**
 * Registers the webhook configurations by server-side apply (field manager `bulkhead`). Called
 * only once policies are loaded; nothing here ever deletes a configuration (not on shutdown,
 * scale-down or leader change). While break-glass is on, failure policies are left as the
 * switch set them.
 */
export async function registerWebhooks(kc: KubeConfig, configs: readonly WebhookConfiguration[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const cfg of configs) {
    let desired: WebhookConfiguration = cfg;
    try {
      const live = (await api.read({
        apiVersion: cfg.apiVersion,
        kind: cfg.kind,
        metadata: { name: cfg.metadata.name },
      })) as KubernetesObject & WebhookConfiguration;
      if (live.metadata?.annotations?.[BREAK_GLASS_ANNOTATION] === 'on') {
        desired = { ...cfg, webhooks: cfg.webhooks.map((w) => ({ ...w, failurePolicy: 'Ignore' })) };
      }
    } catch (e) {
      if ((e as { code?: number }).code !== 404) throw e;
    }
    await api.patch(
      desired as unknown as KubernetesObject,
      undefined,
      undefined,
      'bulkhead',
      true,
      PatchStrategy.ServerSideApply,
    );
  }
}
