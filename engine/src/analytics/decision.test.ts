import { strict as assert } from 'node:assert';
import type { HealthPolicy } from '../core/api/index.js';
import { decide } from './decide.js';
import { groupIncidents } from './grouping.js';
import { stepHysteresis, type HysteresisState } from './hysteresis.js';
import type { PodHealth, Signal } from './types.js';

const pod = (name: string, over: Partial<PodHealth> = {}): PodHealth => ({
  namespace: 'shop',
  name,
  uid: `uid-${name}`,
  labels: { app: 'api', tier: 'web' },
  samples: [],
  events: [],
  owner: { kind: 'ReplicaSet', name: 'api-7d9', uid: 'rs-1' },
  node: `node-${name}`,
  image: `img-${name}`,
  ...over,
});
const sig = (p: PodHealth): Signal => ({
  type: 'ConsecutiveFailures',
  pod: p,
  at: 0,
  reason: 'ConsecutiveProbeFailures',
  message: '3 consecutive probe failures',
  evidence: [],
  threat: false,
});
const firing = (...pods: PodHealth[]) => pods.map((p) => ({ pod: p, signals: [sig(p)] }));

describe('hysteresis', () => {
  const run = (inputs: [boolean, number][], threat = false) => {
    let s: HysteresisState | undefined;
    return inputs.map(([f, t]) => {
      const r = stepHysteresis(s, f, threat, t, { clearAfter: 2, minHoldMs: 10, cooldownMs: 100 });
      s = r.state;
      return r.transition;
    });
  };
  it('trips once and holds through a flapping pod', () => {
    assert.deepEqual(
      run([
        [true, 0],
        [false, 1],
        [true, 2],
        [false, 3],
        [true, 4],
      ]),
      ['trip', null, null, null, null],
    );
  });
  it('clears only after enough quiet evaluations and the minimum hold', () => {
    assert.deepEqual(
      run([
        [true, 0],
        [false, 5],
        [false, 6],
        [false, 20],
      ]),
      ['trip', null, null, 'clear'],
    );
  });
  it('does not re-trip within the cooldown, but does after it', () => {
    assert.deepEqual(
      run([
        [true, 0],
        [false, 20],
        [false, 30],
        [true, 40],
        [true, 200],
      ]),
      ['trip', null, 'clear', null, 'trip'],
    );
  });
  it('a threat re-trips even in the cooldown', () => {
    assert.deepEqual(
      run(
        [
          [true, 0],
          [false, 20],
          [false, 30],
          [true, 40],
        ],
        true,
      ),
      ['trip', null, 'clear', 'trip'],
    );
  });
});

describe('grouping', () => {
  it('five pods failing on one node are one incident', () => {
    const pods = ['a', 'b', 'c', 'd', 'e'].map((n) =>
      pod(n, { node: 'node-1', owner: { kind: 'ReplicaSet', name: `rs-${n}`, uid: `rs-${n}` } }),
    );
    const incidents = groupIncidents(firing(...pods));
    assert.equal(incidents.length, 1);
    assert.equal(incidents[0]!.key, 'node/node-1');
    assert.equal(incidents[0]!.members.length, 5);
  });
  it('a bad image across nodes is one incident', () => {
    const pods = ['a', 'b', 'c'].map((n) => pod(n, { image: 'shop/api:1.4.2' }));
    assert.deepEqual(
      groupIncidents(firing(...pods)).map((i) => i.key),
      ['image/shop/api:1.4.2'],
    );
  });
  it('below the group size every pod is its own incident', () => {
    const incidents = groupIncidents(firing(pod('a', { owner: undefined }), pod('b', { owner: undefined })));
    assert.deepEqual(
      incidents.map((i) => i.scope),
      ['pod', 'pod'],
    );
  });
  it('three of one owner become one owner incident', () => {
    assert.deepEqual(
      groupIncidents(firing(pod('a'), pod('b'), pod('c'))).map((i) => i.key),
      ['owner/shop/ReplicaSet/api-7d9'],
    );
  });
});

describe('decide', () => {
  const policy = (action: object): HealthPolicy =>
    ({ metadata: { name: 'api' }, spec: { action: { type: 'Quarantine', ...action } } }) as unknown as HealthPolicy;
  it('gives failing pods the policy action and siblings the milder one', () => {
    const [failing] = groupIncidents(firing(pod('a')));
    const v = decide(failing!, policy({ similar: { groupBy: ['app'], action: 'Alert' } }), [
      pod('a'),
      pod('b'),
      pod('c', { labels: { app: 'other' } }),
    ]);
    assert.deepEqual(
      v.actions.map((a) => [a.pod.name, a.action, a.role]),
      [
        ['a', 'Quarantine', 'primary'],
        ['b', 'Alert', 'similar'],
      ],
    );
    assert.equal(v.mode, 'Enforce');
  });
  it('never gives a sibling a harsher action than the failing pod gets', () => {
    const [failing] = groupIncidents(firing(pod('a')));
    const v = decide(failing!, policy({ type: 'Restart', similar: { groupBy: ['app'], action: 'Isolate' } }), [
      pod('a'),
      pod('b'),
    ]);
    assert.equal(v.actions.find((a) => a.role === 'similar')?.action, 'Alert');
  });
  it('siblings sharing the failing image (or node, owner) get the milder action, tied to the failing pod', () => {
    const [failing] = groupIncidents(firing(pod('a', { image: 'shop/api:2' })));
    const population = [
      pod('a', { image: 'shop/api:2' }),
      pod('b', { image: 'shop/api:2' }),
      pod('c', { image: 'shop/api:1' }),
      pod('d', { image: 'shop/api:2', namespace: 'other' }),
      pod('e'),
    ];
    const v = decide(failing!, policy({ similar: { sharing: ['Image'], action: 'Isolate' } }), population);
    assert.deepEqual(
      v.actions.map((a) => [a.pod.name, a.action, a.role, a.similarTo?.name]),
      [
        ['a', 'Quarantine', 'primary', undefined],
        ['b', 'Isolate', 'similar', 'a'],
      ],
      'same image, same namespace only',
    );
    assert.equal(v.actions[1]!.message, 'shares image shop/api:2 with failing pod a');
    // Every named attribute must match: same owner but another node is not similar by both.
    const both = decide(failing!, policy({ similar: { sharing: ['Owner', 'Node'], action: 'Alert' } }), [
      pod('b', { node: 'node-a' }),
      pod('c'),
    ]);
    assert.deepEqual(
      both.actions.filter((a) => a.role === 'similar').map((a) => [a.pod.name, a.message]),
      [['b', 'shares owner ReplicaSet/api-7d9, node node-a with failing pod a']],
    );
    assert.equal(
      decide(failing!, policy({ similar: { action: 'Isolate' } }), population).actions.length,
      1,
      'nothing named, nothing similar',
    );
  });
  it('asks for the failing node to be avoided when the policy says Taint', () => {
    const [failing] = groupIncidents(firing(pod('a')));
    assert.equal(decide(failing!, policy({ replacement: { avoidNode: 'Taint' } }), []).avoidNode, 'Taint');
    assert.equal(decide(failing!, policy({ replacement: { avoidNode: 'None' } }), []).avoidNode, undefined);
  });
  it('carries the policy budget to quarantine', () => {
    const [failing] = groupIncidents(firing(pod('a')));
    assert.deepEqual(decide(failing!, policy({ budget: { maxUnavailable: '50%' } }), []).budget, {
      maxUnavailable: '50%',
    });
  });
  it('carries DryRun through', () => {
    const [failing] = groupIncidents(firing(pod('a')));
    assert.equal(decide(failing!, policy({ mode: 'DryRun' }), []).mode, 'DryRun');
  });
});
