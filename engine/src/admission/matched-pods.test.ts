import { strict as assert } from 'node:assert';
import { PolicyIndex } from './inject/policy-index.js';
import type { InjectablePolicy } from './inject/policy.js';
import { matchedPodCounts } from './matched-pods.js';

const policy = (name: string, match: InjectablePolicy['spec']['match']): InjectablePolicy =>
  ({ metadata: { name }, spec: { match, probe: { http: { path: '/', port: 8080 } } } }) as InjectablePolicy;

describe('matchedPodCounts', () => {
  it('counts the pods each policy selects, as the webhook matches them; excluded and deleting pods never', () => {
    const index = new PolicyIndex(
      [
        policy('shop-web', { namespaces: ['shop'], selector: { matchLabels: { app: 'web' } } }),
        policy('shop-all', { namespaces: ['shop'] }),
        policy('labelled', { namespaceSelector: { matchLabels: { team: 'a' } } }),
      ],
      { excludedNamespaces: ['kube-system', 'bulkhead-system'] },
    );
    const pod = (namespace: string, labels: Record<string, string> = {}, deleting = false) => ({
      metadata: { namespace, labels, ...(deleting ? { deletionTimestamp: 'x' } : {}) },
    });
    const counts = matchedPodCounts(
      [
        pod('shop', { app: 'web' }),
        pod('shop', { app: 'web' }),
        pod('shop', { app: 'db' }),
        pod('shop', { app: 'web' }, true),
        pod('team-a'),
        pod('kube-system', { app: 'web' }),
      ],
      index,
      (ns): Record<string, string> => (ns === 'team-a' ? { team: 'a' } : { 'kubernetes.io/metadata.name': ns }),
    );
    assert.deepEqual(Object.fromEntries(counts), { 'shop-web': 2, 'shop-all': 3, labelled: 1 });
  });
});
