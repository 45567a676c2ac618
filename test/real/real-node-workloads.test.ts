import assert from 'node:assert/strict';
import { eventually } from '../harness/eventually.js';
import { DEMO_APP_IMAGE } from '../../images/images.js';
import { kubectlOk } from './support/kubectl.js';
import { getRealCluster } from './support/state.js';
import { apply, fetchFrom, realNamespace, waitReady } from './support/workloads.js';

describe('real nodes: workloads', () => {
  const cluster = () => getRealCluster();
  let ns: string;

  before(async () => {
    ns = await realNamespace(cluster(), 'rn-work');
  });

  it('runs a Deployment in real containers on both nodes; logs and exec work; a Service resolves by DNS name', async () => {
    const labels = { app: 'web', 'bulkhead.dev/test': 'true' };
    await apply(
      cluster(),
      ns,
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels },
            spec: {
              terminationGracePeriodSeconds: 2,
              // One per node: the replicas really run on two kubelets.
              topologySpreadConstraints: [
                {
                  maxSkew: 1,
                  topologyKey: 'kubernetes.io/hostname',
                  whenUnsatisfiable: 'DoNotSchedule',
                  labelSelector: { matchLabels: { app: 'web' } },
                },
              ],
              containers: [
                {
                  name: 'app',
                  image: DEMO_APP_IMAGE.ref,
                  imagePullPolicy: 'IfNotPresent',
                  ports: [{ containerPort: 8080 }],
                  readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
                },
              ],
            },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web' },
        spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    );
    await waitReady(cluster(), ns, 'app=web');
    const pods = JSON.parse(await kubectlOk(cluster(), ['get', 'pods', '-n', ns, '-l', 'app=web', '-o', 'json'])) as {
      items: {
        metadata: { name: string };
        spec: { nodeName: string };
        status: { containerStatuses: { containerID: string; ready: boolean }[] };
      }[];
    };
    assert.equal(pods.items.length, 2);
    // Real containers: containerd IDs, one pod on each real node.
    for (const p of pods.items)
      assert.match(p.status.containerStatuses[0]!.containerID, /^containerd:\/\/[0-9a-f]{64}$/);
    assert.deepEqual(new Set(pods.items.map((p) => p.spec.nodeName)), new Set(cluster().nodeNames));

    const first = pods.items[0]!.metadata.name;
    const logs = await kubectlOk(cluster(), ['logs', '-n', ns, first]);
    assert.match(logs, /listening on 0\.0\.0\.0:8080/);
    const exec = await kubectlOk(cluster(), [
      'exec',
      '-n',
      ns,
      first,
      '--',
      'node',
      '-e',
      'process.stdout.write(process.version)',
    ]);
    assert.equal(exec, 'v20.20.2');

    // Pod → Service ClusterIP by DNS name (CoreDNS + kube-proxy), from each node.
    for (const p of pods.items) {
      await eventually(
        async () => {
          const r = await fetchFrom(cluster(), ns, p.metadata.name, `http://web.${ns}.svc.cluster.local/`);
          assert.equal(r.stdout.trim(), '200', r.stdout + r.stderr);
        },
        { what: `web.${ns}.svc answers from ${p.spec.nodeName}`, timeoutMs: 30_000, intervalMs: 500 },
      );
    }
    // The short name through the pod's DNS search path, too.
    const short = await fetchFrom(cluster(), ns, first, 'http://web/');
    assert.equal(short.stdout.trim(), '200', short.stdout + short.stderr);
  });
});
