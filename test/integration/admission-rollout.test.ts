// Issue 5, existing pods: pods created before a policy matched them have no sidecar. They are
// listed, and with `spec.rollout: Restart` their Deployments are restarted one at a
// time (Deployments and a StatefulSet), never while a PodDisruptionBudget allows no disruption.
import { strict as assert } from 'node:assert';
import { AppsV1Api, CoreV1Api, PolicyV1Api } from '@kubernetes/client-node';
import { podsAwaitingSidecar, restartPlan, type ExistingPod } from '../../engine/src/admission/existing-pods.js';
import { restartWorkloads } from '../../engine/src/admission/rollout.js';
import type { RolloutPolicy } from '../../engine/src/admission/existing-pods.js';
import { silentLogger } from '../../engine/src/core/logger.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import {
  hasSidecar,
  SIDECAR,
  simplePod,
  startTestAdmission,
  waitUntilInjecting,
  type TestAdmission,
} from './support/admission-harness.js';

describe('admission: existing pods get the sidecar through a rolling restart', () => {
  let engineNs: string;
  let ns: string;
  let hook: TestAdmission;
  const kc = () => getCluster().kubeConfig();
  const deployments = { api: 1, locked: 1, web: 2 } as const;

  before(async () => {
    engineNs = await newNamespace('bh-engine');
    ns = await newNamespace('rollout');
    const apps = kc().makeApiClient(AppsV1Api);
    for (const [name, replicas] of Object.entries(deployments)) {
      const labels = { app: name };
      await apps.createNamespacedDeployment({
        namespace: ns,
        body: {
          metadata: { name },
          spec: {
            replicas,
            selector: { matchLabels: labels },
            template: { metadata: { labels }, spec: simplePod('x').spec! },
          },
        },
      });
    }
    await apps.createNamespacedStatefulSet({
      namespace: ns,
      body: {
        metadata: { name: 'db' },
        spec: {
          replicas: 1,
          serviceName: 'db',
          selector: { matchLabels: { app: 'db' } },
          template: { metadata: { labels: { app: 'db' } }, spec: simplePod('x').spec! },
        },
      },
    });
    const pdb = kc().makeApiClient(PolicyV1Api);
    await pdb.createNamespacedPodDisruptionBudget({
      namespace: ns,
      body: { metadata: { name: 'web' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } } },
    });
    await pdb.createNamespacedPodDisruptionBudget({
      namespace: ns,
      body: { metadata: { name: 'locked' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'locked' } } } },
    });
    await eventually(
      async () => {
        for (const name of Object.keys(deployments)) {
          const d = await apps.readNamespacedDeployment({ namespace: ns, name });
          assert.equal(d.status?.availableReplicas, d.spec?.replicas, `${name} available`);
        }
        const db = await apps.readNamespacedStatefulSet({ namespace: ns, name: 'db' });
        assert.equal(db.status?.readyReplicas, 1, 'db ready');
        const web = await pdb.readNamespacedPodDisruptionBudget({ namespace: ns, name: 'web' });
        assert.equal(web.status?.disruptionsAllowed, 1, 'web PDB observed');
        const locked = await pdb.readNamespacedPodDisruptionBudget({ namespace: ns, name: 'locked' });
        assert.equal(locked.status?.currentHealthy, 1, 'locked PDB observed');
      },
      { what: 'workloads available and PDBs observed', timeoutMs: 60_000 },
    );
    const policies: RolloutPolicy[] = [
      {
        metadata: { name: 'rollout' },
        spec: { match: { namespaces: [ns] }, probe: { tcp: { port: 8080 } }, rollout: 'Restart' },
      },
    ];
    hook = await startTestAdmission({ engineNamespace: engineNs, policies });
    await waitUntilInjecting(kc().makeApiClient(CoreV1Api), ns, { app: 'warmup' });
  });
  after(async () => {
    await hook?.cleanup();
  });

  it('lists the pods created before the policy, and restarts their workloads (Deployments, a StatefulSet) one at a time, respecting PDBs', async () => {
    const core = kc().makeApiClient(CoreV1Api);
    const apps = kc().makeApiClient(AppsV1Api);
    const pods = (await core.listNamespacedPod({ namespace: ns })).items as unknown as ExistingPod[];
    const owners = new Map(
      (await apps.listNamespacedReplicaSet({ namespace: ns })).items.map((rs) => [
        `${ns}/${rs.metadata!.name}`,
        rs.metadata!.ownerReferences?.find((o) => o.kind === 'Deployment')?.name ?? '',
      ]),
    );
    const labels = { 'kubernetes.io/metadata.name': ns };
    const awaiting = podsAwaitingSidecar(pods, hook.rt.index(), () => labels, owners, SIDECAR).filter(
      (p) => p.workload.kind !== 'Pod',
    );
    assert.deepEqual(awaiting.map((p) => `${p.workload.kind}/${p.workload.name}`).sort(), [
      'Deployment/api',
      'Deployment/locked',
      'Deployment/web',
      'Deployment/web',
      'StatefulSet/db',
    ]);
    const plan = restartPlan(awaiting);
    assert.deepEqual(
      plan.map((w) => w.name),
      ['api', 'locked', 'web', 'db'],
    );

    const results = await restartWorkloads(kc(), plan, {
      logger: silentLogger(),
      timeoutMs: 60_000,
      pdbWaitMs: 2_000,
      pollMs: 250,
    });
    const byName = Object.fromEntries(results.map((r) => [r.workload.name, r]));
    assert.equal(byName.api!.outcome, 'restarted');
    assert.equal(byName.web!.outcome, 'restarted');
    assert.equal(byName.locked!.outcome, 'skipped');
    assert.match(byName.locked!.reason, /PodDisruptionBudget locked allows no disruption/);
    assert.equal(byName.db!.outcome, 'restarted');
    assert.ok(byName.web!.startedAt! >= byName.api!.finishedAt!, 'web started only after api finished');
    assert.ok(byName.db!.startedAt! >= byName.web!.finishedAt!, 'db started only after web finished');

    await eventually(
      async () => {
        const live = (await core.listNamespacedPod({ namespace: ns })).items.filter(
          (p) => !p.metadata?.deletionTimestamp,
        );
        for (const [name, replicas] of [
          ['api', 1],
          ['web', 2],
          ['db', 1],
        ] as const) {
          const mine = live.filter((p) => p.metadata?.labels?.app === name);
          assert.equal(mine.length, replicas, `${name} pods`);
          assert.ok(mine.every(hasSidecar), `${name} pods injected`);
        }
        const locked = live.filter((p) => p.metadata?.labels?.app === 'locked');
        assert.ok(locked.length === 1 && !hasSidecar(locked[0]!), 'the PDB-protected pod was left alone');
      },
      { what: 'restarted pods carry the sidecar', timeoutMs: 30_000 },
    );
  });
});
