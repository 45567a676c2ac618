// An unpullable sidecar image on real kubelets: the engine is installed with `bulkhead install
// --sidecar-image` naming an image no node can pull; a Deployment selected by a policy still
// becomes Available (its stuck pods are recreated without the sidecar), and the HealthPolicy's
// SidecarInjection condition says why injection is paused. Never a silent stall.
import assert from 'node:assert/strict';
import { DEMO_APP_IMAGE } from '../../images/images.js';
import { eventually } from '../harness/eventually.js';
import { bulkhead, installedEngine, showCli, type InstalledEngine } from './support/installed-engine.js';
import { getRealCluster } from './support/state.js';
import { realNamespace } from './support/workloads.js';

/** Nothing listens on 127.0.0.1:1 of a node: the pull fails at once (ErrImagePull, then ImagePullBackOff). */
const UNPULLABLE = '127.0.0.1:1/bulkhead/bulkhead-sidecar:missing';
const SIDECAR = 'bulkhead-sidecar';

describe('real nodes: an unpullable sidecar image', function () {
  this.timeout(900_000);
  let engine: InstalledEngine;
  let ns: string;
  const policy = () => `unpullable-${ns}`;

  before(async () => {
    engine = await installedEngine();
    ns = await realNamespace(getRealCluster(), 'rn-unpull');
    const r = await bulkhead(getRealCluster(), ['install', '--sidecar-image', UNPULLABLE, '--timeout', '5m']);
    assert.equal(r.code, 0, showCli(r));
  });

  after(async () => {
    // Back to deploy/ as shipped for the tests after this one.
    const r = await bulkhead(getRealCluster(), ['install', '--timeout', '5m']);
    assert.equal(r.code, 0, showCli(r));
    const revision = await engine?.repo.push({ [`policies/${policy()}.yaml`]: null }, `unpullable: drop ${policy()}`);
    if (revision) await engine.repo.waitSynced(revision).catch(() => undefined);
  });

  it('workloads still start without the sidecar, and the policy says why injection is paused', async () => {
    const revision = await engine.repo.push(
      {
        [`policies/${policy()}.yaml`]: [
          'apiVersion: bulkhead.dev/v1alpha1',
          'kind: HealthPolicy',
          `metadata: { name: ${policy()} }`,
          'spec:',
          `  match: { namespaces: [${ns}], selector: { matchLabels: { app: web } } }`,
          '  probe: { tcp: { port: 8080 }, interval: 2s, timeout: 1s }',
          '  detect: { rules: [{ type: ConsecutiveFailures, threshold: 1000 }] }',
          '  action: { type: Alert, mode: DryRun }',
          '',
        ].join('\n'),
      },
      `unpullable: ${policy()}`,
    );
    await engine.repo.waitSynced(revision);
    const labels = { app: 'web', 'bulkhead.dev/test': 'true' };
    const podTemplate = {
      metadata: { labels },
      spec: {
        terminationGracePeriodSeconds: 2,
        containers: [
          {
            name: 'app',
            image: DEMO_APP_IMAGE.ref,
            imagePullPolicy: 'IfNotPresent',
            ports: [{ containerPort: 8080 }],
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          },
        ],
      },
    };
    // Wait until the webhook injects this policy (with the unpullable image) before the rollout.
    await eventually(
      async () => {
        const r = await engine.kubectl(['create', '-n', ns, '-f', '-', '--dry-run=server', '-o', 'json'], {
          input: JSON.stringify({
            apiVersion: 'v1',
            kind: 'Pod',
            ...podTemplate,
            metadata: { ...podTemplate.metadata, name: 'probe' },
          }),
        });
        assert.equal(r.code, 0, r.stderr);
        const sc = (
          JSON.parse(r.stdout) as { spec: { initContainers?: { name: string; image: string }[] } }
        ).spec.initContainers?.find((c) => c.name === SIDECAR);
        assert.equal(sc?.image, UNPULLABLE);
      },
      { what: 'the webhook injects the unpullable image', timeoutMs: 120_000, intervalMs: 1000 },
    );
    await engine.kubectlOk(['apply', '-n', ns, '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: podTemplate },
      }),
    });

    // The condition names the image and the stuck pods: why this policy's pods have no monitor.
    const condition = await eventually(
      async () => {
        const hp = JSON.parse(await engine.kubectlOk(['get', 'healthpolicy', policy(), '-o', 'json'])) as {
          status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
        };
        const c = hp.status?.conditions?.find((x) => x.type === 'SidecarInjection');
        assert.equal(c?.status, 'False', JSON.stringify(hp.status));
        return c!;
      },
      { what: 'SidecarInjection=False on the policy', timeoutMs: 180_000, intervalMs: 1000 },
    );
    assert.equal(condition.reason, 'SidecarImageUnpullable');
    assert.match(
      condition.message,
      new RegExp(`"${UNPULLABLE.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" cannot be pulled`),
    );
    assert.match(condition.message, /ErrImagePull|ImagePullBackOff/);
    assert.match(condition.message, /--sidecar-image/);

    // The rollout did not stall: the Deployment is Available, its pods run without the sidecar.
    await eventually(
      async () => {
        const dep = JSON.parse(await engine.kubectlOk(['get', 'deploy', '-n', ns, 'web', '-o', 'json'])) as {
          status: { availableReplicas?: number };
        };
        assert.equal(dep.status.availableReplicas, 2);
      },
      { what: 'the Deployment is Available', timeoutMs: 180_000, intervalMs: 1000 },
    );
    const pods = JSON.parse(await engine.kubectlOk(['get', 'pods', '-n', ns, '-l', 'app=web', '-o', 'json'])) as {
      items: { metadata: { name: string }; spec: { initContainers?: { name: string }[] }; status: { phase: string } }[];
    };
    const running = pods.items.filter((p) => p.status.phase === 'Running');
    assert.equal(running.length, 2);
    for (const p of running) assert.equal(p.spec.initContainers?.some((c) => c.name === SIDECAR) ?? false, false);
    // A new pod is told why it gets no sidecar (kubectl prints the admission warning).
    const dry = await engine.kubectl(['create', '-n', ns, '-f', '-', '--dry-run=server', '-o', 'name'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        ...podTemplate,
        metadata: { ...podTemplate.metadata, name: 'probe' },
      }),
    });
    assert.match(dry.stderr, /no sidecar injected: .*injection paused: sidecar image/);
  });
});
