import { generateKeyPairSync } from 'node:crypto';
import { createCertificateAuthority, issueCertificate, type KeyPair } from '../../engine/src/core/pki.js';

/** Every credential a local control plane needs, fresh per run (they live 7 days at most). */
export interface ClusterPki {
  ca: KeyPair;
  apiserver: KeyPair;
  admin: KeyPair;
  /** Signs and verifies ServiceAccount tokens (TokenRequest / TokenReview). */
  serviceAccount: { privateKey: string; publicKey: string };
  /** The apiserver's client identity towards kubelets (real nodes only). */
  kubeletClient?: KeyPair;
}

export async function createClusterPki(
  opts: { ipAddresses?: string[]; withKubeletClient?: boolean } = {},
): Promise<ClusterPki> {
  const ca = await createCertificateAuthority('bulkhead-local-cluster-ca', 7);
  const [apiserver, admin, kubeletClient] = await Promise.all([
    issueCertificate(ca, {
      commonName: 'kube-apiserver',
      dnsNames: [
        'localhost',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
      ],
      // Real nodes add the host bridge address and their cluster's `kubernetes` Service IP.
      ipAddresses: ['127.0.0.1', '10.96.0.1', ...(opts.ipAddresses ?? [])],
      usage: 'server',
      validForDays: 7,
    }),
    // O=system:masters is the group RBAC's bootstrap policy binds to cluster-admin.
    issueCertificate(ca, { commonName: 'admin', organizations: ['system:masters'], usage: 'client', validForDays: 7 }),
    opts.withKubeletClient
      ? issueCertificate(ca, {
          commonName: 'kube-apiserver-kubelet-client',
          organizations: ['system:masters'],
          usage: 'client',
          validForDays: 7,
        })
      : undefined,
  ]);
  const sa = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    ca,
    apiserver,
    admin,
    serviceAccount: { privateKey: sa.privateKey, publicKey: sa.publicKey },
    ...(kubeletClient ? { kubeletClient } : {}),
  };
}
