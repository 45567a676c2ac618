import { serverSideApply } from '../../core/kube/apply.js';
import { BulkheadError } from '../../core/errors.js';
import type { KubeClient } from '../../core/kube/client.js';
import type { ResourceResolver } from '../../core/kube/resources.js';
import type { Logger } from '../../core/logger.js';
import { errorMessage } from '../../core/errors.js';
import { isolationNetworkPolicy } from '../actions/isolation-policy.js';
import { ADMIN_POLICY_API_VERSION, ADMIN_POLICY_KIND, adminNetworkPolicy } from './admin-network-policy.js';
import type { NetworkPolicyLike } from './network-policy-gaps.js';

interface Deps {
  client: KubeClient;
  resolver: ResourceResolver;
  logger: Logger;
}

/**
 * The isolation objects, before the pod is marked: the namespace's deny-all NetworkPolicy
 * always, and the cluster-wide AdminNetworkPolicy where the apiserver serves the network
 * policy API (discovery says; a cluster without it answers 404 and that is no error). Returns
 * whether the admin policy is in place. A refusal to apply it (RBAC trimmed by an operator,
 * an implementation's webhook) is logged and reported as not in place, never a failed
 * quarantine: the namespace deny-all still isolates, and the condition says what is missing.
 */
export async function ensureIsolationObjects(deps: Deps, namespace: string): Promise<{ adminPolicy: boolean }> {
  await serverSideApply(deps.client, deps.resolver, isolationNetworkPolicy(namespace) as never);
  try {
    await deps.resolver.resolve(ADMIN_POLICY_API_VERSION, ADMIN_POLICY_KIND);
  } catch (err) {
    if (err instanceof BulkheadError && err.code === 'BH_KUBE_KIND_NOT_SERVED') return { adminPolicy: false };
    throw err;
  }
  try {
    await serverSideApply(deps.client, deps.resolver, adminNetworkPolicy() as never);
    return { adminPolicy: true };
  } catch (err) {
    deps.logger.warn({ err: errorMessage(err) }, 'AdminNetworkPolicy is served but could not be applied');
    return { adminPolicy: false };
  }
}

/** Every NetworkPolicy of the namespace: the allows a deny-all cannot override. */
export async function listNetworkPolicies(client: KubeClient, namespace: string): Promise<NetworkPolicyLike[]> {
  const list = await client.request<{ items: NetworkPolicyLike[] }>({
    method: 'GET',
    path: `/apis/networking.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/networkpolicies`,
  });
  return list.items;
}
