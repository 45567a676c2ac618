import { strict as assert } from 'node:assert';
import { isolationNetworkPolicy } from './isolation-policy.js';
import { ORIGINAL_LABELS_ANNOTATION, planDetach, planReattach, selectorKeys } from './detach-patch.js';

describe('detach and reattach patches', () => {
  const labels = { app: 'api', 'pod-template-hash': '7d9', team: 'shop' };
  it('removes exactly the owner-selected labels, marks the pod, and keeps the originals', () => {
    const { patch, removed } = planDetach(labels, ['app', 'pod-template-hash'], 'api-1-abcd1234');
    assert.deepEqual(patch.metadata.labels, {
      'bulkhead.dev/quarantined': 'true',
      app: null,
      'pod-template-hash': null,
    });
    assert.deepEqual(removed, { app: 'api', 'pod-template-hash': '7d9' });
    assert.deepEqual(JSON.parse(patch.metadata.annotations[ORIGINAL_LABELS_ANNOTATION]!), removed);
  });
  it('a retry after a crash keeps the labels the first attempt saved', () => {
    const first = planDetach(labels, ['app', 'pod-template-hash'], 'q-1');
    const strippedLabels = { team: 'shop', 'bulkhead.dev/quarantined': 'true' };
    const retry = planDetach(strippedLabels, ['app', 'pod-template-hash'], 'q-1', first.patch.metadata.annotations);
    assert.deepEqual(retry.removed, { app: 'api', 'pod-template-hash': '7d9' });
    // A different quarantine of the same pod name does not inherit them.
    assert.deepEqual(planDetach(strippedLabels, ['app'], 'q-2', first.patch.metadata.annotations).removed, {});
  });
  it('reattach restores the removed labels and clears the marks', () => {
    const { patch } = planDetach(labels, ['app'], 'q');
    const back = planReattach(patch.metadata.annotations);
    assert.deepEqual(back.metadata.labels, { app: 'api', 'bulkhead.dev/quarantined': null });
    assert.equal(back.metadata.annotations[ORIGINAL_LABELS_ANNOTATION], null);
  });
  it('reattach survives a mangled annotation (labels then stay as they are)', () => {
    assert.deepEqual(planReattach({ [ORIGINAL_LABELS_ANNOTATION]: '{not json' }).metadata.labels, {
      'bulkhead.dev/quarantined': null,
    });
  });
  it('selector keys come from matchLabels and matchExpressions', () => {
    assert.deepEqual(selectorKeys({ matchLabels: { a: '1' }, matchExpressions: [{ key: 'b' }] }), ['a', 'b']);
    assert.deepEqual(selectorKeys(undefined), []);
  });
  it('the isolation policy denies all ingress and egress of quarantined pods', () => {
    const np = isolationNetworkPolicy('shop');
    assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(np.spec.ingress, []);
    assert.deepEqual(np.spec.egress, []);
    assert.deepEqual(np.spec.podSelector.matchLabels, { 'bulkhead.dev/quarantined': 'true' });
  });
});
