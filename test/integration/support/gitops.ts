import { KubeClient, type KubeApiError } from '../../../engine/src/core/kube/client.js';
import type { KubeObject } from '../../../engine/src/core/kube/resources.js';
import type { PolicySource } from '../../../engine/src/core/api/index.js';
import { getCluster } from '../../harness/index.js';

/** Small admin-side helpers for the GitOps tests: the test reads and arranges as cluster-admin. */
export function adminClient(): KubeClient {
  return new KubeClient(getCluster().kubeConfig());
}

export const HP = '/apis/bulkhead.dev/v1alpha1/healthpolicies';
export const PS = '/apis/bulkhead.dev/v1alpha1/policysources';

export function policyYaml(name: string, namespace: string, threshold = 3, extra = ''): string {
  return [
    'apiVersion: bulkhead.dev/v1alpha1',
    'kind: HealthPolicy',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  match:',
    `    namespaces: [${namespace}]`,
    '  probe:',
    '    http:',
    '      path: /healthz',
    '      port: 8080',
    '  detect:',
    '    rules:',
    '      - type: ConsecutiveFailures',
    `        threshold: ${threshold}`,
    '  action:',
    '    type: Alert',
    extra,
  ].join('\n');
}

export async function getPolicy(c: KubeClient, name: string): Promise<KubeObject | undefined> {
  try {
    return await c.request<KubeObject>({ method: 'GET', path: `${HP}/${name}` });
  } catch (err) {
    if ((err as KubeApiError).code === 404) return undefined;
    throw err;
  }
}

export async function getSource(c: KubeClient, name: string): Promise<PolicySource> {
  return c.request<PolicySource>({ method: 'GET', path: `${PS}/${name}` });
}

export async function createSource(c: KubeClient, name: string, spec: PolicySource['spec']): Promise<PolicySource> {
  return c.request<PolicySource>({
    method: 'POST',
    path: PS,
    body: { apiVersion: 'bulkhead.dev/v1alpha1', kind: 'PolicySource', metadata: { name }, spec },
  });
}

export async function deleteQuietly(c: KubeClient, path: string): Promise<void> {
  await c.request({ method: 'DELETE', path }).catch(() => {});
}

export const ready = (s: PolicySource): { status?: string; reason?: string; message?: string } =>
  s.status?.conditions?.find((x) => x.type === 'Ready') ?? {};

export async function eventsFor(
  c: KubeClient,
  namespace: string,
  name: string,
): Promise<{ type: string; reason: string; message: string }[]> {
  const list = await c.request<{
    items: { type: string; reason: string; message: string; involvedObject: { name: string; kind: string } }[];
  }>({
    method: 'GET',
    path: `/api/v1/namespaces/${namespace}/events`,
  });
  return list.items.filter((e) => e.involvedObject.kind === 'PolicySource' && e.involvedObject.name === name);
}

/** Reads a counter from the engine's /metrics, summed over series whose labels match. */
export async function metricValue(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})?\s+([0-9.eE+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const l = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}
