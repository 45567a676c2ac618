import { strict as assert } from 'node:assert';
import type { Quarantine } from '../../core/api/index.js';
import { planDetach } from '../actions/detach-patch.js';
import { isolationNetworkPolicy } from '../actions/isolation-policy.js';
import {
  isHeld,
  networkPolicyRepairPatch,
  networkPolicyTampering,
  podRepairPatch,
  podTampering,
  type HeldPod,
} from './tamper.js';

const Q = 'bulkhead.dev/quarantined';
const original = { app: 'api', 'pod-template-hash': '7d9' };
const q: Quarantine = {
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'Quarantine',
  metadata: { name: 'api-1-abcd1234', namespace: 'shop', uid: 'q-uid' },
  spec: {
    pod: { name: 'api-1', uid: 'pod-uid' },
    policy: 'p',
    mode: 'Enforce',
    reason: 'ConsecutiveFailures',
    time: '2026-01-01T00:00:00Z',
    cluster: 'c',
    originalLabels: original,
  } as Quarantine['spec'],
  status: { phase: 'Isolated' },
};
/** The pod as the quarantine left it: the detach patch applied. */
function heldPod(): HeldPod & { metadata: { labels: Record<string, string>; annotations: Record<string, string> } } {
  const { patch } = planDetach({ ...original, team: 'shop' }, ['app', 'pod-template-hash'], q.metadata.name!);
  return {
    metadata: { uid: 'pod-uid', labels: { team: 'shop', [Q]: 'true' }, annotations: patch.metadata.annotations },
  };
}

describe('isolation tampering (pure)', () => {
  it('a pod as the quarantine left it is not tampered with', () => {
    assert.deepEqual(podTampering(q, heldPod()), []);
  });

  it('finds the quarantined label removed or changed, removed labels put back, marks edited', () => {
    const pod = heldPod();
    delete pod.metadata.labels[Q];
    assert.deepEqual(
      podTampering(q, pod).map((t) => [t.kind, t.detail]),
      [['label', `label ${Q}=true removed`]],
    );
    pod.metadata.labels[Q] = 'false';
    assert.match(podTampering(q, pod)[0]!.detail, /changed to "false"/);
    const readopted = heldPod();
    readopted.metadata.labels.app = 'api';
    assert.deepEqual(
      podTampering(q, readopted).map((t) => [t.kind, t.detail]),
      [['detach', 'removed label(s) app put back']],
    );
    const marks = heldPod();
    marks.metadata.annotations['bulkhead.dev/original-labels'] = '{}';
    assert.deepEqual(
      podTampering(q, marks).map((t) => t.kind),
      ['annotation'],
    );
  });

  it('the repair patch puts the isolation back in one write, with the uid as precondition', () => {
    const pod = heldPod();
    delete pod.metadata.labels[Q];
    pod.metadata.labels.app = 'api';
    const patch = podRepairPatch(q, pod);
    assert.equal(patch.metadata.uid, 'pod-uid');
    assert.deepEqual(patch.metadata.labels, { [Q]: 'true', app: null });
    assert.deepEqual(JSON.parse(patch.metadata.annotations['bulkhead.dev/original-labels']!), original);
    assert.equal(patch.metadata.annotations['bulkhead.dev/quarantine'], q.metadata.name);
  });

  it('only Enforce, Isolated, not replaced Quarantines are held', () => {
    assert.equal(isHeld(q), true);
    assert.equal(isHeld({ ...q, status: { phase: 'Released' } }), false);
    assert.equal(isHeld({ ...q, status: { phase: 'Pending' } }), false);
    assert.equal(isHeld({ ...q, spec: { ...q.spec, mode: 'DryRun' } }), false);
    assert.equal(isHeld({ ...q, spec: { ...q.spec, actions: [{ type: 'Replace', time: 't', detail: 'd' }] } }), false);
  });

  it('the deny-all: deleted, widened, narrowed or unlabelled is tampering; as applied is not', () => {
    const np = isolationNetworkPolicy('shop');
    type Loose = { metadata: { labels?: Record<string, string> }; spec: Record<string, unknown> };
    const live = () => JSON.parse(JSON.stringify(np)) as Loose;
    assert.equal(networkPolicyTampering('shop', live()), undefined);
    // The apiserver may drop the empty rule lists.
    const stored = live();
    delete stored.spec.ingress;
    delete stored.spec.egress;
    assert.equal(networkPolicyTampering('shop', stored), undefined);
    assert.match(networkPolicyTampering('shop', undefined)!.detail, /deleted/);
    const widened = live();
    widened.spec.ingress = [{}];
    assert.match(networkPolicyTampering('shop', widened)!.detail, /spec changed/);
    const narrowed = live();
    narrowed.spec.podSelector = { matchLabels: { [Q]: 'true', nothing: 'x' } };
    assert.match(networkPolicyTampering('shop', narrowed)!.detail, /spec changed/);
    const egressOnly = live();
    egressOnly.spec.policyTypes = ['Egress'];
    assert.ok(networkPolicyTampering('shop', egressOnly));
    const unlabelled = live();
    unlabelled.metadata.labels = {};
    assert.match(networkPolicyTampering('shop', unlabelled)!.detail, /lost label/);
  });

  it('the netpol repair replaces the spec as a whole and restores the label', () => {
    const narrowed = JSON.parse(JSON.stringify(isolationNetworkPolicy('shop'))) as {
      metadata: { labels?: Record<string, string> };
    };
    assert.deepEqual(networkPolicyRepairPatch('shop', narrowed), [
      { op: 'replace', path: '/spec', value: isolationNetworkPolicy('shop').spec },
      { op: 'add', path: '/metadata/labels/app.kubernetes.io~1managed-by', value: 'bulkhead' },
    ]);
    delete narrowed.metadata.labels;
    assert.deepEqual(networkPolicyRepairPatch('shop', narrowed)[1], {
      op: 'add',
      path: '/metadata/labels',
      value: { 'app.kubernetes.io/managed-by': 'bulkhead' },
    });
  });
});
