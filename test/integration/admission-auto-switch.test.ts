// `--admission=auto` follows the policies (ADR 1700): a policy that needs the webhook
// (replacement.avoidNode AntiAffinity) arriving while the engine runs on the policy path moves
// it to the webhook path, and its going moves it back. Each move swaps which objects the
// keeper guards; a second keeper once threw (its metric registered twice) and left the switch
// half done, which only the real-node tier showed. Here: the real runtime, the real apiserver.
import { strict as assert } from 'node:assert';
import { AdmissionregistrationV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { InjectablePolicy } from '../../engine/src/admission/inject/policy.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import {
  hasSidecar,
  readAdmissionObject,
  simplePod,
  startTestAdmission,
  type TestAdmission,
} from './support/admission-harness.js';

describe('admission auto: the path follows the policies while the engine runs', () => {
  let hook: TestAdmission;
  let ns: string;
  const core = () => getCluster().kubeConfig().makeApiClient(CoreV1Api);
  const webhooks = () => getCluster().kubeConfig().makeApiClient(AdmissionregistrationV1Api);
  const policy = (antiAffinity: boolean): InjectablePolicy => ({
    metadata: { name: 'web' },
    spec: {
      match: { namespaces: [ns] },
      probe: { http: { path: '/healthz', port: 8080 } },
      ...(antiAffinity ? { action: { replacement: { avoidNode: 'AntiAffinity' } } } : {}),
    },
  });
  let n = 0;
  /** A dry-run pod: admission runs (either path), nothing is stored. */
  const injected = async (): Promise<boolean> =>
    hasSidecar(await core().createNamespacedPod({ namespace: ns, body: simplePod(`probe-${n++}`), dryRun: 'All' }));
  const exists = (p: Promise<unknown>): Promise<boolean> =>
    p.then(
      () => true,
      () => false,
    );
  const mutatingPolicyBinding = () =>
    exists(readAdmissionObject('MutatingAdmissionPolicyBinding', hook.names.mutating));
  const mutatingWebhook = () => exists(webhooks().readMutatingWebhookConfiguration({ name: hook.names.mutating }));

  before(async () => {
    const engineNs = await newNamespace('bh-engine');
    ns = await newNamespace('auto');
    hook = await startTestAdmission({
      engineNamespace: engineNs,
      policies: [policy(false)],
      mode: 'policy',
      auto: true,
    });
  });
  after(async () => {
    await hook?.cleanup();
  });

  it('moves to the webhook path when a policy needs it, and back when it goes, injecting all along', async () => {
    assert.equal(hook.rt.mode, 'policy');
    assert.ok(await mutatingPolicyBinding(), 'starts on the policy path');
    await eventually(async () => assert.ok(await injected()), { what: 'injected on the policy path' });

    hook.setPolicies([policy(true)]);
    await eventually(
      async () => {
        assert.equal(hook.rt.mode, 'webhook');
        assert.ok(await mutatingWebhook(), 'webhook configuration registered');
        assert.equal(await mutatingPolicyBinding(), false, 'the policy path removed');
      },
      { what: 'switched to the webhook path', timeoutMs: 30_000 },
    );
    const before = hook.reviewsIn(ns).length;
    await eventually(
      async () => {
        assert.ok(await injected());
        assert.ok(hook.reviewsIn(ns).length > before, 'injected by the engine webhook');
      },
      { what: 'injected on the webhook path', timeoutMs: 30_000 },
    );

    hook.setPolicies([policy(false)]);
    await eventually(
      async () => {
        assert.equal(hook.rt.mode, 'policy');
        assert.ok(await mutatingPolicyBinding(), 'the policy path registered again');
        assert.equal(await mutatingWebhook(), false, 'the webhook configuration removed');
      },
      { what: 'switched back to the policy path', timeoutMs: 30_000 },
    );
    await eventually(async () => assert.ok(await injected()), { what: 'injected on the policy path again' });

    const failures = hook.logs.filter((l) => l.level >= 40 && /fail/i.test(l.msg));
    assert.deepEqual(failures, [], 'no registration or keeper failure along the way');
    assert.equal(
      (await hook.registry.getMetricsAsJSON()).filter((m) => m.name === 'bulkhead_admission_webhook_restored_total')
        .length,
      1,
      'one restored counter, whichever keeper runs',
    );
  });
});
