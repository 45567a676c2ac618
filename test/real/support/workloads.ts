import { randomBytes } from 'node:crypto';
import { DEMO_APP_IMAGE } from '../../../images/images.js';
import type { LocalCluster } from '../../../tools/local-cluster/index.js';
import { eventually } from '../../harness/eventually.js';
import { kubectl, kubectlOk } from './kubectl.js';
import { trackRealNamespace } from './state.js';

export async function realNamespace(cluster: LocalCluster, prefix: string): Promise<string> {
  const ns = `${prefix}-${randomBytes(3).toString('hex')}`;
  await kubectlOk(cluster, ['create', 'namespace', ns]);
  await kubectlOk(cluster, ['label', 'namespace', ns, 'bulkhead.dev/test=true']);
  trackRealNamespace(ns);
  return ns;
}

/** A demo-app pod (the project's own image, as imported into the nodes), optionally pinned to a node. */
export function demoPod(name: string, labels: Record<string, string>, node?: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { 'bulkhead.dev/test': 'true', ...labels } },
    spec: {
      ...(node ? { nodeName: node } : {}),
      terminationGracePeriodSeconds: 2,
      containers: [
        {
          name: 'app',
          image: DEMO_APP_IMAGE.ref,
          imagePullPolicy: 'IfNotPresent',
          ports: [{ name: 'http', containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
        },
      ],
    },
  };
}

export async function apply(cluster: LocalCluster, ns: string, ...objects: object[]): Promise<void> {
  await kubectlOk(cluster, ['apply', '-n', ns, '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  });
}

export async function waitReady(cluster: LocalCluster, ns: string, selector: string, timeoutMs = 120_000) {
  // `kubectl wait -l` fails at once while nothing matches yet (the ReplicaSet has not made
  // the pods): wait for the pods to exist first.
  await eventually(
    async () => {
      const names = await kubectlOk(cluster, ['get', 'pods', '-n', ns, '-l', selector, '-o', 'name']);
      if (names.trim() === '') throw new Error(`no pod matches ${selector} yet`);
    },
    { what: `pods ${selector} created`, timeoutMs: 60_000, intervalMs: 250 },
  );
  await kubectlOk(
    cluster,
    ['wait', '-n', ns, 'pod', '-l', selector, '--for=condition=Ready', `--timeout=${timeoutMs / 1000}s`],
    {
      timeoutMs: timeoutMs + 10_000,
    },
  );
}

/** One HTTP GET from inside a pod, with the demo app's own client: exit 0 on any HTTP answer. */
export function fetchFrom(cluster: LocalCluster, ns: string, pod: string, url: string, timeoutMs = 1500) {
  return kubectl(cluster, ['exec', '-n', ns, pod, '--', 'node', '/app/server.mjs', 'fetch', url, String(timeoutMs)]);
}

export async function podIp(cluster: LocalCluster, ns: string, pod: string): Promise<string> {
  return eventually(
    async () => {
      const ip = (await kubectlOk(cluster, ['get', 'pod', '-n', ns, pod, '-o', 'jsonpath={.status.podIP}'])).trim();
      if (!ip) throw new Error(`${pod} has no IP yet`);
      return ip;
    },
    { what: `${pod} has an IP` },
  );
}
