import { strict as assert } from 'node:assert';
import type { PlannedAction, PodHealth } from '../analytics/index.js';
import { applyBudget, maxUnavailablePods } from './budget.js';

const pod = (name: string, ns = 'shop', owner = 'rs-1'): PodHealth => ({
  namespace: ns,
  name,
  uid: `uid-${name}`,
  labels: {},
  samples: [],
  events: [],
  owner: { kind: 'ReplicaSet', name: owner, uid: owner },
});
const act = (
  p: PodHealth,
  action: PlannedAction['action'] = 'Quarantine',
  role: PlannedAction['role'] = 'primary',
): PlannedAction => ({
  pod: p,
  action,
  role,
  reason: 'ConsecutiveProbeFailures',
  message: 'failing',
  signals: [],
});

describe('blast-radius budget', () => {
  const table: [number | string | undefined, number, number][] = [
    [1, 4, 1],
    ['25%', 4, 1],
    ['25%', 3, 0],
    ['50%', 5, 2],
    [undefined, 10, 1],
    [0, 10, 0],
  ];
  for (const [v, replicas, want] of table)
    it(`maxUnavailable ${String(v)} of ${replicas} → ${want}`, () =>
      assert.equal(maxUnavailablePods(v, replicas), want));
  it('rejects a malformed percentage', () => assert.throws(() => maxUnavailablePods('25 %', 4), RangeError));

  it('3 of 4 failing with 25%: one quarantined, the rest alerted, exhausted', () => {
    const d = applyBudget({
      actions: [act(pod('a')), act(pod('b')), act(pod('c'))],
      budget: { maxUnavailable: '25%' },
      workloads: new Map([['rs-1', { replicas: 4, unavailable: 0 }]]),
      namespaceActionsLastHour: new Map(),
      protectedNamespaces: new Set(),
    });
    assert.deepEqual(
      d.allowed.map((a) => [a.pod.name, a.action]),
      [
        ['a', 'Quarantine'],
        ['b', 'Alert'],
        ['c', 'Alert'],
      ],
    );
    assert.equal(d.exhausted, true);
    assert.deepEqual(
      d.downgraded.map((x) => x.why),
      ['WorkloadBudgetExhausted', 'WorkloadBudgetExhausted'],
    );
  });

  it('counts pods already quarantined against the workload', () => {
    const d = applyBudget({
      actions: [act(pod('a'))],
      budget: { maxUnavailable: 1 },
      workloads: new Map([['rs-1', { replicas: 4, unavailable: 1 }]]),
      namespaceActionsLastHour: new Map(),
      protectedNamespaces: new Set(),
    });
    assert.equal(d.allowed[0]!.action, 'Alert');
  });

  it('never acts in kube-system or the engine namespace', () => {
    const d = applyBudget({
      actions: [act(pod('a', 'kube-system')), act(pod('b', 'bulkhead-system'))],
      workloads: new Map(),
      namespaceActionsLastHour: new Map(),
      protectedNamespaces: new Set(['bulkhead-system']),
    });
    assert.deepEqual(
      d.downgraded.map((x) => x.why),
      ['ProtectedNamespace', 'ProtectedNamespace'],
    );
    assert.ok(d.allowed.every((a) => a.action === 'Alert'));
  });

  it('stops at the namespace hourly cap', () => {
    const d = applyBudget({
      actions: [act(pod('a', 'shop', 'rs-a')), act(pod('b', 'shop', 'rs-b'))],
      budget: { maxPerNamespacePerHour: 3 },
      workloads: new Map(),
      namespaceActionsLastHour: new Map([['shop', 2]]),
      protectedNamespaces: new Set(),
    });
    assert.deepEqual(
      d.allowed.map((a) => a.action),
      ['Quarantine', 'Alert'],
    );
    assert.equal(d.downgraded[0]!.why, 'NamespaceHourlyCapReached');
  });

  it('failing pods get the budget before their similar siblings; alerts are free', () => {
    const d = applyBudget({
      actions: [act(pod('sib'), 'Isolate', 'similar'), act(pod('a')), act(pod('x'), 'Alert')],
      budget: { maxUnavailable: 1 },
      workloads: new Map([['rs-1', { replicas: 10, unavailable: 0 }]]),
      namespaceActionsLastHour: new Map(),
      protectedNamespaces: new Set(),
    });
    assert.deepEqual(
      d.allowed.map((a) => [a.pod.name, a.action]),
      [
        ['a', 'Quarantine'],
        ['x', 'Alert'],
        ['sib', 'Alert'],
      ],
    );
  });
});
