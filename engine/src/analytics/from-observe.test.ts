import { strict as assert } from 'node:assert';
import { injectedPolicyOf, podFactsOf } from './from-observe.js';

describe('podFactsOf', () => {
  it('takes labels, node, the controlling owner and the first container image', () => {
    const facts = podFactsOf({
      metadata: {
        name: 'api-1',
        namespace: 'shop',
        uid: 'u',
        labels: { app: 'api' },
        ownerReferences: [
          { kind: 'Other', name: 'not-controller', uid: 'x' },
          { kind: 'ReplicaSet', name: 'api-7d9', uid: 'rs', controller: true },
        ],
      },
      spec: { nodeName: 'node-1', containers: [{ image: 'shop/api:1' }, { image: 'sidecar' }] },
    });
    assert.deepEqual(facts, {
      labels: { app: 'api' },
      node: 'node-1',
      owner: { kind: 'ReplicaSet', name: 'api-7d9', uid: 'rs' },
      image: 'shop/api:1',
    });
  });
  it('a bare, unscheduled pod has only labels', () => {
    assert.deepEqual(podFactsOf({ metadata: { name: 'p', namespace: 'n', uid: 'u' } }), { labels: {} });
  });
  it('the injecting policy from the webhook annotation; anything else there is no policy', () => {
    const f = podFactsOf({
      metadata: {
        name: 'p',
        namespace: 'n',
        uid: 'u',
        annotations: { 'bulkhead.dev/injected': '{"policy":"checkout-api","sidecar":"0.1.0"}' },
      },
    });
    assert.equal(f.injectedPolicy, 'checkout-api');
    for (const bad of ['', 'not json', 'null', '{"policy":3}', '{"policy":""}', `{"policy":"${'x'.repeat(300)}"}`])
      assert.equal(injectedPolicyOf({ 'bulkhead.dev/injected': bad }), undefined, bad);
    assert.equal(injectedPolicyOf(undefined), undefined);
  });
});
