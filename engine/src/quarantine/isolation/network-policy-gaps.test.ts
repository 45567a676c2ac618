import { strict as assert } from 'node:assert';
import {
  isolationGaps,
  labelsToStrip,
  policyDirections,
  selectorMatches,
  type NetworkPolicyLike,
} from './network-policy-gaps.js';
import { isolationCondition } from './isolation-condition.js';
import { isolationNetworkPolicy } from '../actions/isolation-policy.js';
import { adminNetworkPolicy } from './admin-network-policy.js';

const np = (name: string, spec: NetworkPolicyLike['spec']): NetworkPolicyLike => ({ metadata: { name }, spec });
const Q = 'bulkhead.dev/quarantined';

// What a namespace typically has next to the quarantine's deny-all.
const allowAllIngress = np('allow-all-ingress', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] });
const allowDns = np('allow-dns', {
  podSelector: {},
  policyTypes: ['Egress'],
  egress: [{ ports: [{ protocol: 'UDP', port: 53 }] }],
});
const frontendFromIngress = np('web-from-ingress', {
  podSelector: { matchLabels: { app: 'web' } },
  policyTypes: ['Ingress'],
  ingress: [{ from: [{ namespaceSelector: { matchLabels: { name: 'ingress' } } }], ports: [{ port: 8080 }] }],
});
const monitoring = np('scrape', {
  podSelector: { matchExpressions: [{ key: 'metrics', operator: 'Exists' }] },
  ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'prometheus' } } }] }],
});
const notDb = np('not-db', {
  podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] },
  policyTypes: ['Ingress'],
  ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }],
});
const denyAllOwn = np('bulkhead-quarantine', isolationNetworkPolicy('shop').spec);
const excludesQuarantined = np('allow-all-but-quarantined', {
  podSelector: { matchExpressions: [{ key: Q, operator: 'DoesNotExist' }] },
  policyTypes: ['Ingress'],
  ingress: [{}],
});

describe('isolation gaps: which NetworkPolicies still admit traffic to a quarantined pod', () => {
  const pod = { app: 'web', metrics: 'true', team: 'shop', 'pod-template-hash': 'abc' };

  it('selector semantics: matchLabels, In, NotIn, Exists, DoesNotExist; {} selects all', () => {
    assert.equal(selectorMatches({}, pod), true);
    assert.equal(selectorMatches(undefined, pod), true);
    assert.equal(selectorMatches({ matchLabels: { app: 'web' } }, pod), true);
    assert.equal(selectorMatches({ matchLabels: { app: 'api' } }, pod), false);
    assert.equal(
      selectorMatches({ matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'x'] }] }, pod),
      true,
    );
    assert.equal(
      selectorMatches({ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, pod),
      false,
    );
    assert.equal(
      selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }, pod),
      true,
    );
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'metrics', operator: 'Exists' }] }, pod), true);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'metrics', operator: 'DoesNotExist' }] }, pod), false);
  });

  it('policyTypes default as the apiserver defaults them', () => {
    assert.deepEqual(policyDirections(np('i', { podSelector: {}, ingress: [{}] })), ['Ingress']);
    assert.deepEqual(policyDirections(np('e', { podSelector: {}, egress: [{}] })), ['Ingress', 'Egress']);
    assert.deepEqual(policyDirections(allowDns), ['Egress']);
  });

  it('strips the labels label-selected allows need, never the quarantined label nor kept keys', () => {
    const all = [allowAllIngress, allowDns, frontendFromIngress, monitoring, notDb, denyAllOwn];
    assert.deepEqual(labelsToStrip(all, { ...pod, [Q]: 'true' }), ['app', 'metrics']);
    // An Isolate keeps the owner's keys: app stays, so web-from-ingress will still select it.
    assert.deepEqual(labelsToStrip(all, pod, new Set(['app'])), ['metrics']);
    // A deny-only policy (no rules) is never a reason to strip.
    assert.deepEqual(labelsToStrip([denyAllOwn], { ...pod, [Q]: 'true' }), []);
  });

  it('after stripping, only the allows no label change escapes remain, each with what it admits', () => {
    const all = [allowAllIngress, allowDns, frontendFromIngress, monitoring, notDb, denyAllOwn, excludesQuarantined];
    const after = { team: 'shop', 'pod-template-hash': 'abc', [Q]: 'true' };
    const gaps = isolationGaps(all, after);
    assert.deepEqual(
      gaps.map((g) => [g.policy, g.directions, g.admits]),
      [
        ['allow-all-ingress', ['Ingress'], ['ingress from anywhere']],
        ['allow-dns', ['Egress'], ['egress to anywhere on 53/UDP']],
        ['not-db', ['Ingress'], ['ingress from ipBlock 10.0.0.0/8']],
      ],
    );
    assert.match(gaps[0]!.why, /podSelector \{\} selects every pod/);
    assert.match(gaps[2]!.why, /tier notin \(db\) still selects the pod/);
    // Before stripping, the label-selected ones select it too.
    assert.deepEqual(
      isolationGaps(all, { ...pod, [Q]: 'true' }).map((g) => g.policy),
      ['allow-all-ingress', 'allow-dns', 'not-db', 'scrape', 'web-from-ingress'],
    );
    assert.equal(
      isolationGaps([frontendFromIngress], pod)[0]!.admits[0],
      'ingress from namespaces name=ingress on 8080/TCP',
    );
    assert.equal(isolationGaps([monitoring], pod)[0]!.admits[0], 'ingress from all namespaces / pods app=prometheus');
  });

  it('the condition names the policies, why, and the fix; an AdminNetworkPolicy overrides them', () => {
    const gaps = isolationGaps([allowAllIngress, allowDns], { [Q]: 'true' });
    const c = isolationCondition({ gaps, adminPolicy: false, stripped: ['app'] });
    assert.equal(c.type, 'IsolationIncomplete');
    assert.equal(c.status, 'True');
    assert.equal(c.reason, 'AllowPolicySelectsPod');
    assert.match(
      c.message,
      /allow-all-ingress \(its podSelector \{\} selects every pod in the namespace; admits ingress from anywhere\)/,
    );
    assert.match(c.message, /allow-dns .*egress to anywhere on 53\/UDP/);
    assert.match(c.message, /Fix: add \{key: bulkhead.dev\/quarantined, operator: DoesNotExist\}/);
    assert.match(c.message, /Removed labels app/);
    const overridden = isolationCondition({ gaps, adminPolicy: true, stripped: [] });
    assert.deepEqual([overridden.status, overridden.reason], ['False', 'OverriddenByAdminNetworkPolicy']);
    const none = isolationCondition({ gaps: [], adminPolicy: false, stripped: [] });
    assert.deepEqual([none.status, none.reason], ['False', 'NoAllowPolicySelectsPod']);
  });

  it('the suggested fix works: a policy excluding the quarantined label no longer selects the pod', () => {
    assert.deepEqual(isolationGaps([excludesQuarantined], { [Q]: 'true' }), []);
    assert.equal(isolationGaps([excludesQuarantined], {}).length, 1);
  });

  it('the AdminNetworkPolicy denies both ways for quarantined pods in every namespace', () => {
    const anp = adminNetworkPolicy();
    assert.equal(anp.spec.priority, 0);
    assert.deepEqual(anp.spec.subject.pods.podSelector.matchLabels, { [Q]: 'true' });
    assert.deepEqual(anp.spec.subject.pods.namespaceSelector, {});
    assert.deepEqual([anp.spec.ingress[0]!.action, anp.spec.egress[0]!.action], ['Deny', 'Deny']);
    assert.deepEqual(anp.spec.egress[0]!.to[1], { networks: ['0.0.0.0/0', '::/0'] });
  });
});
