import { strict as assert } from 'node:assert';
import { fluxRevision, policyStatus, type LivePolicy } from './health-policy-status.js';

const policy = (generation: number, status?: LivePolicy['status']): LivePolicy =>
  ({
    apiVersion: 'bulkhead.dev/v1alpha1',
    kind: 'HealthPolicy',
    metadata: { name: 'web', generation },
    spec: { match: {}, probe: {}, detect: { rules: [] }, action: { type: 'Alert' } },
    ...(status ? { status } : {}),
  }) as unknown as LivePolicy;
const now = new Date('2026-12-02T07:00:00Z');
const registered = (gen: number) => ({ policies: new Map([['web', gen]]) });

describe('HealthPolicy status (pure)', () => {
  it('Ready=True with observedGeneration once the current generation is registered; kstatus reads both', () => {
    const { status, changed } = policyStatus(policy(3), { registration: registered(3), matchedPods: 4 }, now);
    assert.equal(changed, true);
    assert.equal(status.observedGeneration, 3);
    assert.equal(status.matchedPods, 4);
    assert.deepEqual(status.conditions, [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Accepted',
        message: 'accepted generation 3; sidecar injection rules registered',
        lastTransitionTime: '2026-12-02T07:00:00Z',
        observedGeneration: 3,
      },
    ]);
  });

  it('Unknown while a newer generation is not registered yet; False when registration failed', () => {
    const waiting = policyStatus(policy(4), { registration: registered(3), matchedPods: 0 }, now).status;
    assert.equal(waiting.conditions[0]!.status, 'Unknown');
    assert.equal(waiting.conditions[0]!.reason, 'Registering');
    const failed = policyStatus(
      policy(4),
      { registration: { ...registered(3), error: 'admission webhook timeout' }, matchedPods: 0 },
      now,
    ).status;
    assert.equal(failed.conditions[0]!.status, 'False');
    assert.equal(failed.conditions[0]!.reason, 'RegistrationFailed');
    assert.match(failed.conditions[0]!.message, /admission webhook timeout/);
    assert.equal(policyStatus(policy(1), { matchedPods: 0 }, now).status.conditions[0]!.status, 'Unknown');
  });

  it('Ready=False while injection is paused (the SidecarInjection condition another writer owns)', () => {
    const paused = policy(2, {
      conditions: [
        {
          type: 'SidecarInjection',
          status: 'False',
          reason: 'ImagePullFailed',
          message: 'cannot pull x',
          lastTransitionTime: '2026-12-01T00:00:00Z',
        },
      ],
    });
    const { status } = policyStatus(paused, { registration: registered(2), matchedPods: 1 }, now);
    assert.equal(status.conditions.length, 1, 'only Ready is ours to apply');
    assert.equal(status.conditions[0]!.reason, 'SidecarInjectionPaused');
    assert.match(status.conditions[0]!.message, /cannot pull x/);
  });

  it('is no change (no write) when the live status says it all; keeps lastTransitionTime', () => {
    const first = policyStatus(
      policy(3),
      { registration: registered(3), matchedPods: 2, sourceRevision: 'main@sha1:abc' },
      now,
    ).status;
    const live = policy(3, { ...first, conditions: first.conditions });
    const later = new Date('2026-12-02T08:00:00Z');
    const again = policyStatus(
      live,
      { registration: registered(3), matchedPods: 2, sourceRevision: 'main@sha1:abc' },
      later,
    );
    assert.equal(again.changed, false);
    assert.equal(again.status.conditions[0]!.lastTransitionTime, '2026-12-02T07:00:00Z');
    assert.equal(policyStatus(live, { registration: registered(3), matchedPods: 3 }, later).changed, true);
  });

  it('formats revisions the way Flux prints them', () => {
    const sha = 'a'.repeat(40);
    assert.equal(fluxRevision({ branch: 'main' }, sha), `main@sha1:${sha}`);
    assert.equal(fluxRevision({ tag: 'v1.2.0' }, sha), `v1.2.0@sha1:${sha}`);
    assert.equal(fluxRevision({ commit: sha }, sha), `sha1:${sha}`);
    assert.equal(fluxRevision(undefined, sha), `main@sha1:${sha}`);
    assert.equal(fluxRevision({ branch: 'main' }, 'b'.repeat(64)), `main@sha256:${'b'.repeat(64)}`);
    assert.equal(fluxRevision({ branch: 'main' }, `main@sha1:${sha}`), `main@sha1:${sha}`, 'already Flux-style');
  });
});
