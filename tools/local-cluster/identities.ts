import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig, type AuthenticationV1TokenRequest } from '@kubernetes/client-node';
import { renderKubeconfig } from './kubeconfig.js';

/** Creates a namespace with a random suffix, so test files never share state. */
export async function createTestNamespace(
  kc: KubeConfig,
  prefix: string,
  labels: Record<string, string> = {},
): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`.toLowerCase();
  await kc
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name, labels: { 'bulkhead.dev/test': 'true', ...labels } } } });
  return name;
}

export interface TokenOptions {
  audiences?: string[];
  expirationSeconds?: number;
  /** Binds the token to a pod, as the kubelet does for projected tokens. */
  boundPod?: { name: string; uid: string };
}

/** Mints a ServiceAccount token through the TokenRequest API (creating the SA if needed). */
export async function mintServiceAccountToken(
  kc: KubeConfig,
  namespace: string,
  serviceAccount: string,
  opts: TokenOptions = {},
): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  await core
    .createNamespacedServiceAccount({ namespace, body: { metadata: { name: serviceAccount } } })
    .catch((e: { code?: number }) => {
      if (e.code !== 409) throw e;
    });
  const body: AuthenticationV1TokenRequest = {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: {
      audiences: opts.audiences ?? [],
      expirationSeconds: opts.expirationSeconds ?? 3600,
      ...(opts.boundPod
        ? { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: opts.boundPod.name, uid: opts.boundPod.uid } }
        : {}),
    },
  };
  const res = await core.createNamespacedServiceAccountToken({ name: serviceAccount, namespace, body });
  const token = res.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
  return token;
}

/** A kubeconfig acting as the ServiceAccount: limited to whatever RBAC grants it. */
export async function serviceAccountKubeConfig(
  admin: KubeConfig,
  cluster: { server: string; ca: { cert: string } },
  namespace: string,
  serviceAccount: string,
): Promise<{ kubeConfig: KubeConfig; yaml: string }> {
  const token = await mintServiceAccountToken(admin, namespace, serviceAccount);
  const yaml = renderKubeconfig({
    server: cluster.server,
    caCert: cluster.ca.cert,
    userName: `system:serviceaccount:${namespace}:${serviceAccount}`,
    user: { token },
    namespace,
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(yaml);
  return { kubeConfig, yaml };
}
