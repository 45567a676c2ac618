// Injection on real kubelets, in a namespace that enforces Pod Security `restricted` and has a
// ResourceQuota on CPU and memory requests and limits (no LimitRange): a Deployment, a
// StatefulSet and a Job of the demo app, selected by a HealthPolicy synced from git by the
// engine `bulkhead install` installed, get the native sidecar and start; the Job completes.
import assert from 'node:assert/strict';
import { DEMO_APP_IMAGE } from '../../images/images.js';
import { eventually } from '../harness/eventually.js';
import { installedEngine, type InstalledEngine } from './support/installed-engine.js';
import { realNamespace } from './support/workloads.js';
import { getRealCluster } from './support/state.js';

const SIDECAR = 'bulkhead-sidecar';
const PART_OF = 'app.kubernetes.io/part-of';

interface Container {
  name: string;
  restartPolicy?: string;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
}
interface Pod {
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: { containers: Container[]; initContainers?: Container[]; nodeName?: string };
  status: {
    phase: string;
    qosClass?: string;
    conditions?: { type: string; status: string }[];
    initContainerStatuses?: {
      name: string;
      started?: boolean;
      state?: { running?: unknown; terminated?: unknown };
      restartCount: number;
    }[];
  };
}

/** What `restricted` asks of every container, and requests = limits (the quota, and Guaranteed QoS). */
const appContainer = (name: string, extra: object = {}) => ({
  name,
  image: DEMO_APP_IMAGE.ref,
  imagePullPolicy: 'IfNotPresent',
  resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '50m', memory: '64Mi' } },
  securityContext: {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  },
  ...extra,
});
const template = (app: string, containerExtra: object = {}, specExtra: object = {}) => ({
  metadata: { labels: { app, [PART_OF]: 'restricted-test', 'bulkhead.dev/test': 'true' } },
  spec: { terminationGracePeriodSeconds: 2, containers: [appContainer('app', containerExtra)], ...specExtra },
});
const serving = {
  ports: [{ name: 'http', containerPort: 8080 }],
  readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
};

describe('real nodes: injection under Pod Security restricted and a ResourceQuota', function () {
  this.timeout(600_000);
  let engine: InstalledEngine;
  let ns: string;
  const policyFile = () => `policies/restricted-${ns}.yaml`;

  before(async () => {
    engine = await installedEngine();
    ns = await realNamespace(getRealCluster(), 'rn-restricted');
    await engine.kubectlOk(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted']);
    await engine.kubectlOk(['apply', '-n', ns, '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: { name: 'compute' },
        spec: {
          hard: {
            'requests.cpu': '2',
            'requests.memory': '2Gi',
            'limits.cpu': '2',
            'limits.memory': '2Gi',
            pods: '20',
          },
        },
      }),
    });
    const revision = await engine.repo.push(
      {
        [policyFile()]: [
          'apiVersion: bulkhead.dev/v1alpha1',
          'kind: HealthPolicy',
          `metadata: { name: restricted-${ns} }`,
          'spec:',
          `  match: { namespaces: [${ns}], selector: { matchLabels: { ${PART_OF}: restricted-test } } }`,
          '  probe: { tcp: { port: 8080 }, interval: 2s, timeout: 1s }',
          '  detect: { rules: [{ type: ConsecutiveFailures, threshold: 1000 }] }',
          '  action: { type: Alert, mode: DryRun }',
          '',
        ].join('\n'),
      },
      `restricted-workloads: policy for ${ns}`,
    );
    await engine.repo.waitSynced(revision);
    // The webhook registers the new policy's namespace: wait until a probe pod comes out injected.
    await eventually(
      async () => {
        const r = await engine.kubectl(['create', '-n', ns, '-f', '-', '--dry-run=server', '-o', 'json'], {
          input: JSON.stringify({
            apiVersion: 'v1',
            kind: 'Pod',
            ...template('probe'),
            metadata: { ...template('probe').metadata, name: 'probe' },
          }),
        });
        assert.equal(r.code, 0, r.stderr);
        const pod = JSON.parse(r.stdout) as Pod;
        assert.ok(
          pod.spec.initContainers?.some((c) => c.name === SIDECAR),
          'not injected yet',
        );
      },
      { what: `the webhook injects pods in ${ns}`, timeoutMs: 120_000, intervalMs: 1000 },
    );
  });

  after(async () => {
    const revision = await engine?.repo.push({ [policyFile()]: null }, `restricted-workloads: drop policy for ${ns}`);
    if (revision) await engine.repo.waitSynced(revision).catch(() => undefined);
  });

  it('a Deployment, a StatefulSet and a Job get a native sidecar that passes restricted and the quota; they start, the Job completes', async () => {
    await engine.kubectlOk(['apply', '-n', ns, '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'web' },
            spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template('web', serving) },
          },
          {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: 'db' },
            spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 8080 }] },
          },
          {
            apiVersion: 'apps/v1',
            kind: 'StatefulSet',
            metadata: { name: 'db' },
            spec: {
              serviceName: 'db',
              replicas: 1,
              selector: { matchLabels: { app: 'db' } },
              template: template('db', serving),
            },
          },
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            metadata: { name: 'once' },
            spec: {
              backoffLimit: 2,
              // The app's one task: ask the sidecar's /healthz beside it (it started first), then exit.
              template: template(
                'once',
                {
                  // The app may start a moment before the sidecar listens: retry for up to 10 s.
                  command: [
                    'node',
                    '-e',
                    "const get=(n)=>require('http').get('http://127.0.0.1:9901/healthz',(r)=>{console.log(r.statusCode);process.exit(0)})" +
                      ".on('error',()=>n>0?setTimeout(()=>get(n-1),200):process.exit(1));get(50)",
                  ],
                },
                { restartPolicy: 'Never' },
              ),
            },
          },
        ],
      }),
    });

    const pods = async (app: string): Promise<Pod[]> =>
      (
        JSON.parse(await engine.kubectlOk(['get', 'pods', '-n', ns, '-l', `app=${app}`, '-o', 'json'])) as {
          items: Pod[];
        }
      ).items;
    const ready = (p: Pod) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
    for (const [app, count] of [
      ['web', 2],
      ['db', 1],
    ] as const) {
      await eventually(
        async () => {
          const ps = await pods(app);
          assert.equal(
            ps.filter(ready).length,
            count,
            ps.map((p) => `${p.metadata.name} ${p.status.phase}`).join(', '),
          );
        },
        { what: `${app}: ${count} pod(s) Ready`, timeoutMs: 180_000, intervalMs: 1000 },
      );
    }
    await eventually(
      async () => {
        const job = JSON.parse(await engine.kubectlOk(['get', 'job', '-n', ns, 'once', '-o', 'json'])) as {
          status: { succeeded?: number; conditions?: { type: string; status: string }[] };
        };
        assert.equal(job.status.succeeded, 1, JSON.stringify(job.status));
        assert.ok(job.status.conditions?.some((c) => c.type === 'Complete' && c.status === 'True'));
      },
      { what: 'the Job completes with its sidecar beside it', timeoutMs: 180_000, intervalMs: 1000 },
    );

    for (const app of ['web', 'db', 'once']) {
      for (const p of await pods(app)) {
        const sc = p.spec.initContainers?.find((c) => c.name === SIDECAR);
        assert.ok(sc, `${p.metadata.name}: injected`);
        assert.equal(sc.restartPolicy, 'Always', 'a native sidecar');
        assert.deepEqual(
          p.spec.containers.map((c) => c.name),
          ['app'],
        );
        assert.deepEqual(sc.resources?.requests, sc.resources?.limits);
        // requests = limits in every container: the pod stays Guaranteed with the sidecar.
        assert.equal(p.status.qosClass, 'Guaranteed', p.metadata.name);
        const status = p.status.initContainerStatuses?.find((s) => s.name === SIDECAR);
        if (app === 'once') {
          // The Job's app exited: the kubelet then stopped its sidecar, and the pod completed.
          assert.ok(status?.state?.terminated, `${p.metadata.name}: sidecar stopped after the app`);
          assert.equal(p.status.phase, 'Succeeded');
        } else {
          assert.ok(status?.started && status.state?.running, `${p.metadata.name}: sidecar running beside the app`);
          assert.equal(status.restartCount, 0, `${p.metadata.name}: sidecar never restarted`);
        }
      }
    }
    // The Job's app reached the sidecar's /healthz: its log is the status it got.
    const jobPod = (await pods('once')).find((p) => p.status.phase === 'Succeeded');
    assert.equal((await engine.kubectlOk(['logs', '-n', ns, jobPod!.metadata.name, '-c', 'app'])).trim(), '200');
  });
});
