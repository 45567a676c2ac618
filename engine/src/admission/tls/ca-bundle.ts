import { AdmissionregistrationV1Api, type KubeConfig } from '@kubernetes/client-node';

export interface WebhookConfigNames {
  mutating: readonly string[];
  validating: readonly string[];
}

const code = (e: unknown): number | undefined => (e as { code?: number }).code;

/**
 * Sets `caBundle` on every webhook of the named configurations, only where it differs. A
 * configuration that does not exist yet is skipped (apply creates it, with the bundle, after
 * policies load). The JSON patch tests resourceVersion, so a concurrent apply is not undone.
 * Returns how many configurations were patched.
 */
export async function patchCaBundles(kc: KubeConfig, names: WebhookConfigNames, bundlePem: string): Promise<number> {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  const caBundle = Buffer.from(bundlePem, 'utf8').toString('base64');
  let patched = 0;
  const one = async (
    read: () => Promise<{
      metadata?: { resourceVersion?: string };
      webhooks?: { clientConfig: { caBundle?: string } }[];
    }>,
    patch: (body: object[]) => Promise<unknown>,
  ): Promise<void> => {
    for (let attempt = 0; attempt < 5; attempt++) {
      let cfg;
      try {
        cfg = await read();
      } catch (e) {
        if (code(e) === 404) return;
        throw e;
      }
      const ops: object[] = [{ op: 'test', path: '/metadata/resourceVersion', value: cfg.metadata?.resourceVersion }];
      (cfg.webhooks ?? []).forEach((w, i) => {
        if (w.clientConfig.caBundle !== caBundle)
          ops.push({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle });
      });
      if (ops.length === 1) return;
      try {
        await patch(ops);
        patched++;
        return;
      } catch (e) {
        // A failed `test` (someone wrote in between) is a 422 or 409: read again.
        if (code(e) !== 409 && code(e) !== 422) throw e;
      }
    }
  };
  for (const name of names.mutating) {
    await one(
      () => api.readMutatingWebhookConfiguration({ name }),
      (body) => api.patchMutatingWebhookConfiguration({ name, body, fieldManager: 'bulkhead-tls' }),
    );
  }
  for (const name of names.validating) {
    await one(
      () => api.readValidatingWebhookConfiguration({ name }),
      (body) => api.patchValidatingWebhookConfiguration({ name, body, fieldManager: 'bulkhead-tls' }),
    );
  }
  return patched;
}
