// spec.rollout: Restart, carried out by the engine: the rollout controller finds pods created
// before their policy matched them and restarts their workload, so the new pods are injected.
import { strict as assert } from 'node:assert';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { startRolloutController } from '../../engine/src/admission/index.js';
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

describe('admission: the rollout controller (spec.rollout: Restart)', () => {
  let hook: TestAdmission | undefined;
  after(async () => {
    await hook?.cleanup();
  });

  it('restarts the Deployment of pods that predate the policy; leaves them alone without Restart or when not leader', async () => {
    const kc = getCluster().kubeConfig();
    const engineNs = await newNamespace('bh-engine');
    const ns = await newNamespace('late');
    const apps = kc.makeApiClient(AppsV1Api);
    const labels = { app: 'late' };
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'late' },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: simplePod('x').spec! },
        },
      },
    });
    await eventually(
      async () =>
        assert.equal(
          (await apps.readNamespacedDeployment({ namespace: ns, name: 'late' })).status?.availableReplicas,
          2,
        ),
      { timeoutMs: 60_000, what: 'late available' },
    );

    const policy = (rollout: 'None' | 'Restart'): RolloutPolicy[] => [
      { metadata: { name: 'late' }, spec: { match: { namespaces: [ns] }, probe: { tcp: { port: 8080 } }, rollout } },
    ];
    hook = await startTestAdmission({ engineNamespace: engineNs, policies: policy('None') });
    await waitUntilInjecting(kc.makeApiClient(CoreV1Api), ns, { app: 'warmup' });
    let leader = false;
    const controller = startRolloutController({
      kubeConfig: kc,
      index: () => hook!.rt.index(),
      sidecar: SIDECAR,
      isLeader: () => leader,
      logger: silentLogger(),
      intervalMs: 3_600_000,
    });
    try {
      assert.deepEqual(await controller.runOnce(), [], 'a follower restarts nothing');
      leader = true;
      assert.deepEqual(await controller.runOnce(), [], 'without rollout: Restart nothing is restarted');
      await hook.cleanup();
      hook = await startTestAdmission({ engineNamespace: engineNs, policies: policy('Restart') });
      await waitUntilInjecting(kc.makeApiClient(CoreV1Api), ns, { app: 'warmup2' });
      const results = (await controller.runOnce()).filter((r) => r.workload.namespace === ns);
      assert.deepEqual(
        results.map((r) => [r.workload.kind, r.workload.name, r.outcome]),
        [['Deployment', 'late', 'restarted']],
      );
      await eventually(
        async () => {
          const pods = (
            await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns, labelSelector: 'app=late' })
          ).items.filter((p) => !p.metadata?.deletionTimestamp);
          assert.equal(pods.length, 2);
          assert.ok(pods.every(hasSidecar), 'every late pod now carries the sidecar');
        },
        { timeoutMs: 60_000, what: 'late pods replaced with injected ones' },
      );
      assert.deepEqual(
        (await controller.runOnce()).filter((r) => r.workload.namespace === ns),
        [],
        'nothing left to restart',
      );
    } finally {
      controller.stop();
    }
  });
});
