import { randomBytes } from 'node:crypto';
import { isConflict, isNotFound, type KubeClient } from '../../core/kube/client.js';
import type { KubeObject } from '../../core/kube/resources.js';
import { ENGINE } from './manifests.js';

/** The Secret deploy/engine/deployment.yaml mounts (optional) as the dashboard's token file. */
export const DASHBOARD_SECRET = { name: 'bulkhead-dashboard', key: 'token' } as const;

/** A fresh dashboard token: 32 random bytes, base64url (43 characters, far above the 16-character floor). */
export function newDashboardToken(): string {
  return randomBytes(32).toString('base64url');
}

export function dashboardSecretObject(token: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: DASHBOARD_SECRET.name,
      namespace: ENGINE.namespace,
      labels: { 'app.kubernetes.io/name': 'bulkhead', 'app.kubernetes.io/component': 'dashboard' },
      annotations: {
        'bulkhead.dev/purpose': 'bearer token of the read-only dashboard (created once by bulkhead install)',
      },
    },
    type: 'Opaque',
    stringData: { [DASHBOARD_SECRET.key]: token },
  } as KubeObject;
}

/**
 * Creates the dashboard token Secret when it does not exist, and never changes one that does
 * (a re-run or an upgrade keeps the token users already have; to rotate it, delete the Secret,
 * run install again and restart the engine). A plain create, not an apply: there is nothing to
 * converge, and the token must never travel through a field manager's diff. ADR 1001.
 */
export async function ensureDashboardSecret(
  client: KubeClient,
  opts: { dryRun: boolean },
): Promise<'created' | 'unchanged' | 'skipped'> {
  const path = `/api/v1/namespaces/${ENGINE.namespace}/secrets`;
  try {
    await client.request({ method: 'GET', path: `${path}/${DASHBOARD_SECRET.name}` });
    return 'unchanged';
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await client.request({
      method: 'POST',
      path,
      body: dashboardSecretObject(newDashboardToken()),
      ...(opts.dryRun ? { query: { dryRun: 'All' } } : {}),
    });
    return 'created';
  } catch (err) {
    // A dry run on a cluster without the namespace yet cannot check it (as with the other objects).
    if (opts.dryRun && isNotFound(err)) return 'skipped';
    // Created meanwhile by a concurrent install: that one's token stands.
    if (isConflict(err)) return 'unchanged';
    throw err;
  }
}
