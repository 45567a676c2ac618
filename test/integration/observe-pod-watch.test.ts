// The pod watch restarts itself: client-node's informer stops for good on an error other than
// 410, so a watch that starts without permission (403 from the real apiserver's RBAC) must
// retry with backoff and come up once the Role is bound, then feed pod lifecycle events.
import { strict as assert } from 'node:assert';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { silentLogger } from '../../engine/src/core/logger.js';
import { serviceAccountKubeConfig } from '../../tools/local-cluster/index.js';
import { HealthStore } from '../../engine/src/observe/index.js';
import { createObserveMetrics } from '../../engine/src/observe/metrics.js';
import { watchPods, type PodWatch } from '../../engine/src/observe/pod-watch.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import { createPod } from './support/observe-processes.js';

describe('observe: pod watch restart on error (real apiserver RBAC)', () => {
  let watch: PodWatch | undefined;
  after(() => watch?.stop());

  it('keeps retrying while forbidden, then watches and records a readiness loss', async () => {
    const ns = await newNamespace('podwatch');
    const admin = getCluster().kubeConfig();
    const { kubeConfig: limited } = await serviceAccountKubeConfig(admin, getCluster(), ns, 'observer');
    const registry = new Registry();
    const metrics = createObserveMetrics(registry);
    const store = new HealthStore();
    const pod = await createPod(ns, 'watched');
    watch = watchPods({
      kubeConfig: limited,
      store,
      logger: silentLogger(),
      metrics,
      namespace: ns,
      backoff: { baseMs: 100, capMs: 400 },
    });
    const count = async (event: string): Promise<number> =>
      (await metrics.podWatch.get()).values.find((v) => v.labels.event === event)?.value ?? 0;
    await eventually(async () => assert.ok((await count('restart')) >= 2, 'restarted at least twice while forbidden'), {
      what: 'watch retries while forbidden',
    });
    assert.equal(await count('list'), 0, 'no list succeeded without permission');

    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'pod-watcher' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'pod-watcher' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-watcher' },
        subjects: [{ kind: 'ServiceAccount', name: 'observer', namespace: ns }],
      },
    });
    await eventually(() => watch!.synced, { what: 'first successful list', timeoutMs: 30_000 });
    assert.ok((await count('list')) >= 1);

    const core = admin.makeApiClient(CoreV1Api);
    const running = await eventually(
      async () => {
        const p = await core.readNamespacedPod({ name: 'watched', namespace: ns });
        assert.ok(
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
          'Ready',
        );
        return p;
      },
      { what: 'pod Ready on its kwok node', timeoutMs: 30_000 },
    );
    await core.replaceNamespacedPodStatus({
      name: 'watched',
      namespace: ns,
      body: {
        ...running,
        status: {
          ...running.status,
          conditions: running.status!.conditions!.map((c) => (c.type === 'Ready' ? { ...c, status: 'False' } : c)),
        },
      },
    });
    await eventually(() => assert.ok(store.get(pod.uid)?.events.some((e) => e.type === 'NotReady')), {
      what: 'NotReady in the window',
    });
  });
});
