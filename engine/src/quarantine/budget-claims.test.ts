import { strict as assert } from 'node:assert';
import type { PlannedAction, PodHealth } from '../analytics/index.js';
import { applyBudget } from './budget.js';
import { claimsFor, factsWithClaims, liveClaims, mergeClaims, type BudgetClaim } from './budget-claims.js';

const pod = (name: string, owner = 'rs-1'): PodHealth => ({
  namespace: 'shop',
  name,
  uid: `uid-${name}`,
  labels: {},
  samples: [],
  events: [],
  owner: { kind: 'ReplicaSet', name: owner, uid: owner },
});
const act = (p: PodHealth, action: PlannedAction['action'] = 'Quarantine'): PlannedAction => ({
  pod: p,
  action,
  role: 'primary',
  reason: 'ConsecutiveFailures',
  message: 'failing',
  signals: [],
});
const claim = (name: string, at = 1_000, owner = 'rs-1'): BudgetClaim => ({
  uid: `uid-${name}`,
  namespace: 'shop',
  workload: owner,
  at,
  by: 'replica-b',
});
const facts = {
  parts: new Map([['rs-1', { replicas: 3, held: 0, deficit: 0 }]]),
  namespaceActionsLastHour: new Map([['shop', 0]]),
  quarantined: new Set<string>(),
};

describe('budget claims (ADR 1501)', () => {
  it('a claim of another replica holds the workload budget: the second pod is alerted', () => {
    const d = applyBudget({
      actions: [act(pod('b'))],
      budget: { maxUnavailable: 1 },
      ...factsWithClaims(facts, [claim('a')]),
      protectedNamespaces: new Set(),
    });
    assert.deepEqual(
      d.downgraded.map((x) => x.why),
      ['WorkloadBudgetExhausted'],
    );
  });
  it('a claim whose Quarantine exists counts once (by the Quarantine)', () => {
    const f = factsWithClaims(
      { ...facts, parts: new Map([['rs-1', { replicas: 3, held: 1, deficit: 0 }]]), quarantined: new Set(['uid-a']) },
      [claim('a')],
    );
    assert.equal(f.workloads.get('rs-1')!.unavailable, 1);
  });
  it('the claims count toward the hourly cap too, and a pod claimed twice counts once', () => {
    const f = factsWithClaims(facts, [claim('a'), claim('a'), claim('c', 1_000, 'rs-2')]);
    assert.equal(f.namespaceActionsLastHour.get('shop'), 2);
    assert.equal(f.workloads.get('rs-1')!.unavailable, 1);
  });
  it('claims for the pods being decided are not counted against them (a retry)', () => {
    assert.equal(factsWithClaims(facts, [claim('a')], new Set(['uid-a'])).workloads.get('rs-1')!.unavailable, 0);
  });
  it('the availability deficit stays the floor; claims are added to the held side only', () => {
    const f = factsWithClaims({ ...facts, parts: new Map([['rs-1', { replicas: 3, held: 0, deficit: 2 }]]) }, [
      claim('a'),
    ]);
    assert.equal(f.workloads.get('rs-1')!.unavailable, 2);
  });
  it('expired and malformed entries are dropped; unparsable ledgers read as empty', () => {
    const raw = JSON.stringify([claim('a', 1_000), claim('b', 500_000), { uid: 3 }, 'x']);
    assert.deepEqual(
      liveClaims(raw, 400_000, 300_000).map((c) => c.uid),
      ['uid-b'],
    );
    assert.deepEqual(liveClaims('{not json', 0), []);
    assert.deepEqual(liveClaims(undefined, 0), []);
  });
  it('a decision claims its disruptive actions only, replacing older claims of the same pods', () => {
    const added = claimsFor([act(pod('a')), act(pod('b'), 'Alert')], 2_000, 'replica-a');
    assert.deepEqual(
      added.map((c) => [c.uid, c.workload, c.by]),
      [['uid-a', 'rs-1', 'replica-a']],
    );
    assert.deepEqual(
      mergeClaims([claim('a'), claim('c')], added).map((c) => [c.uid, c.by]),
      [
        ['uid-c', 'replica-b'],
        ['uid-a', 'replica-a'],
      ],
    );
  });
  it('a full ledger downgrades every disruptive action, never an Alert', () => {
    const d = applyBudget({
      actions: [act(pod('a')), act(pod('b'), 'Alert')],
      ...factsWithClaims(facts, []),
      protectedNamespaces: new Set(),
      ledgerFull: true,
    });
    assert.deepEqual(
      d.downgraded.map((x) => [x.action.pod.name, x.why]),
      [['a', 'BudgetLedgerFull']],
    );
    assert.ok(d.allowed.every((a) => a.action === 'Alert'));
  });
});
