import { strict as assert } from 'node:assert';
import { applyJsonPatch } from '../../../../test/harness/json-patch.js';
import { SIDECAR_CONTAINER_NAME } from '../sidecar-env.js';
import { decideInjection, type PodLike } from './patch.js';
import { PolicyIndex } from './policy-index.js';
import type { InjectablePolicy } from './policy.js';
import {
  INJECTION_CONDITION,
  PAUSE_MS,
  UNPULLABLE_REASON,
  planPullGuard,
  stuckOnSidecarPull,
  type PendingPod,
} from './pull-pause.js';

const IMAGE = 'ghcr.io/bulkhead-dev/bulkhead-sidecar:0.1.0';
const T0 = Date.parse('2026-12-02T01:00:00Z');

const stuckPod = (name: string, reason = 'ImagePullBackOff', owned = true): PendingPod => ({
  metadata: {
    namespace: 'shop',
    name,
    uid: `uid-${name}`,
    annotations: { 'bulkhead.dev/injected': JSON.stringify({ policy: 'web', sidecar: '0.1.0' }) },
    ...(owned ? { ownerReferences: [{ controller: true, kind: 'ReplicaSet', name: 'web-1' }] } : {}),
  },
  spec: { initContainers: [{ name: SIDECAR_CONTAINER_NAME, image: IMAGE }] },
  status: {
    phase: 'Pending',
    initContainerStatuses: [{ name: SIDECAR_CONTAINER_NAME, state: { waiting: { reason } } }],
  },
});

const policy = (conditions?: InjectablePolicy['status']): InjectablePolicy => ({
  metadata: { name: 'web' },
  spec: { match: { namespaces: ['shop'] }, probe: { tcp: { port: 8080 } } },
  ...(conditions ? { status: conditions } : {}),
});

describe('unpullable sidecar: pause injection, say why, unstick the pods', () => {
  it('finds injected pods waiting on the sidecar image, and only those', () => {
    assert.deepEqual(stuckOnSidecarPull(stuckPod('a')), {
      namespace: 'shop',
      name: 'a',
      uid: 'uid-a',
      policy: 'web',
      image: IMAGE,
      reason: 'ImagePullBackOff',
      owned: true,
    });
    assert.equal(stuckOnSidecarPull(stuckPod('b', 'ContainerCreating')), undefined);
    const running = stuckPod('c');
    running.status!.phase = 'Running';
    assert.equal(stuckOnSidecarPull(running), undefined);
    const notInjected = stuckPod('d');
    delete notInjected.metadata.annotations;
    assert.equal(stuckOnSidecarPull(notInjected), undefined);
  });

  it('pauses the policy with a condition that says why and what to do, and deletes only owned pods', () => {
    const stuck = [stuckPod('a'), stuckPod('b', 'ErrImagePull', false)].map((p) => stuckOnSidecarPull(p)!);
    const plan = planPullGuard(stuck, [policy()], IMAGE, T0);
    const c = plan.conditions.get('web')!;
    assert.equal(c.type, INJECTION_CONDITION);
    assert.equal(c.status, 'False');
    assert.equal(c.reason, UNPULLABLE_REASON);
    assert.match(c.message, /sidecar image "ghcr.io\/bulkhead-dev\/bulkhead-sidecar:0.1.0" cannot be pulled/);
    assert.match(c.message, /shop\/a \(ImagePullBackOff\), shop\/b \(ErrImagePull\)/);
    assert.match(c.message, /1 bare pod\(s\) left for you to delete/);
    assert.match(c.message, /--sidecar-image/);
    assert.deepEqual(
      plan.delete.map((s) => s.name),
      ['a'],
    );
  });

  it('the webhook skips a paused policy (for that image), until the pause is over; then resumes and says so', () => {
    const paused = planPullGuard([stuckOnSidecarPull(stuckPod('a'))!], [policy()], IMAGE, T0).conditions.get('web')!;
    const p = policy({ conditions: [paused] });
    const index = new PolicyIndex([p], { excludedNamespaces: [] });
    const pod: PodLike = { metadata: { name: 'x', namespace: 'shop' }, spec: { containers: [{ name: 'app' }] } };
    const settings = { image: IMAGE, version: '0.1.0', reportUrl: 'https://e.invalid/r' };
    const during = decideInjection(pod, 'shop', {}, index, settings, T0 + 60_000);
    assert.equal(during.inject, false);
    assert.match((during as { reason: string }).reason, /injection paused: sidecar image .* cannot be pulled/);
    // Another image (the operator installed --sidecar-image): injected at once.
    assert.equal(decideInjection(pod, 'shop', {}, index, { ...settings, image: 'other:1' }, T0 + 60_000).inject, true);
    const after = decideInjection(pod, 'shop', {}, index, settings, T0 + PAUSE_MS + 1);
    assert.equal(after.inject, true);
    assert.ok(applyJsonPatch(pod, after.inject ? after.patch : []).spec!.initContainers);

    // Quiet while paused and nothing new is stuck; resumed (True) once the pause is over.
    assert.equal(planPullGuard([], [p], IMAGE, T0 + 60_000).conditions.size, 0);
    const resumed = planPullGuard([], [p], IMAGE, T0 + PAUSE_MS + 1).conditions.get('web')!;
    assert.deepEqual([resumed.status, resumed.reason], ['True', 'Injecting']);
    // A pause still running keeps its start (an ongoing failure does not extend it forever).
    const again = planPullGuard([stuckOnSidecarPull(stuckPod('z'))!], [p], IMAGE, T0 + 60_000).conditions.get('web')!;
    assert.equal(again.lastTransitionTime, paused.lastTransitionTime);
  });
});
