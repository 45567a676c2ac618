// The network policy API (sigs.k8s.io/network-policy-api) served the way clusters that offer it
// do: its AdminNetworkPolicy CRD. Cluster-scoped, so whoever serves it takes it away again.
import assert from 'node:assert/strict';
import type { KubeClient } from '../../engine/src/core/kube/client.js';
import { eventually } from './eventually.js';

const CRD = 'adminnetworkpolicies.policy.networking.k8s.io';

/** Serves AdminNetworkPolicy while `fn` runs; the CRD (and every object of it) goes afterwards. */
export async function withAdminNetworkPolicyApi<T>(admin: KubeClient, fn: () => Promise<T>): Promise<T> {
  const remove = await serveAdminNetworkPolicyApi(admin);
  try {
    return await fn();
  } finally {
    await remove();
  }
}

/** Serves AdminNetworkPolicy until the returned function takes the CRD (and every object of it) away. */
export async function serveAdminNetworkPolicyApi(admin: KubeClient): Promise<() => Promise<void>> {
  const remove = async (): Promise<void> => {
    await admin.request({ method: 'DELETE', path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD}` });
  };
  await admin.request({
    method: 'POST',
    path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
    body: {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      // The real CRD's approval annotation: *.k8s.io groups are protected.
      metadata: {
        name: CRD,
        annotations: { 'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/network-policy-api/pull/30' },
      },
      spec: {
        group: 'policy.networking.k8s.io',
        scope: 'Cluster',
        names: {
          plural: 'adminnetworkpolicies',
          singular: 'adminnetworkpolicy',
          kind: 'AdminNetworkPolicy',
          shortNames: ['anp'],
        },
        versions: [
          {
            name: 'v1alpha1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    },
  });
  try {
    await eventually(
      async () => {
        const list = await admin.request<{ resources: { name: string }[] }>({
          method: 'GET',
          path: '/apis/policy.networking.k8s.io/v1alpha1',
        });
        assert.ok(list.resources.some((r) => r.name === 'adminnetworkpolicies'));
      },
      { what: 'AdminNetworkPolicy served' },
    );
  } catch (err) {
    await remove();
    throw err;
  }
  return remove;
}
