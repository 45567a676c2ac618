import { strict as assert } from 'node:assert';
import {
  buildMutatingWebhookConfiguration,
  buildValidatingWebhookConfiguration,
  candidateScopes,
  type SelectingPolicy,
} from './webhook-config.js';

const p = (name: string, match: SelectingPolicy['spec']['match']): SelectingPolicy => ({
  metadata: { name },
  spec: { match },
});
const opts = { engineNamespace: 'bulkhead-system', endpoint: { url: 'https://127.0.0.1:9443/' }, caBundle: 'Q0E=' };

describe('webhook configuration generator', () => {
  it('is fail-open, fast, side-effect free and re-invoked for pods only on CREATE', () => {
    const cfg = buildMutatingWebhookConfiguration([p('a', { namespaces: ['shop'] })], opts);
    assert.equal(cfg.kind, 'MutatingWebhookConfiguration');
    assert.equal(cfg.webhooks.length, 1);
    const w = cfg.webhooks[0]!;
    assert.equal(w.failurePolicy, 'Ignore');
    assert.equal(w.timeoutSeconds, 5);
    assert.equal(w.sideEffects, 'None');
    assert.equal(w.reinvocationPolicy, 'IfNeeded');
    assert.deepEqual(w.rules, [
      { operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' },
    ]);
    assert.deepEqual(w.clientConfig, { url: 'https://127.0.0.1:9443/mutate', caBundle: 'Q0E=' });
    assert.match(w.name, /^p[0-9a-f]{10}\.inject\.bulkhead\.dev$/);
  });

  it('admits only candidate namespaces and pods, always excluding kube-system, kube-public and the engine namespace', () => {
    const cfg = buildMutatingWebhookConfiguration(
      [
        p('named', { namespaces: ['shop', 'kube-system'], selector: { matchLabels: { app: 'web' } } }),
        p('labelled', { namespaceSelector: { matchLabels: { team: 'pay' } } }),
        p('everything', {}),
      ],
      opts,
    );
    assert.equal(cfg.webhooks.length, 3);
    for (const w of cfg.webhooks) {
      assert.deepEqual(w.namespaceSelector?.matchExpressions?.at(-1), {
        key: 'kubernetes.io/metadata.name',
        operator: 'NotIn',
        values: ['bulkhead-system', 'kube-public', 'kube-system'],
      });
    }
    const named = cfg.webhooks.find((w) => w.objectSelector)!;
    assert.deepEqual(named.objectSelector, { matchLabels: { app: 'web' } });
    assert.deepEqual(named.namespaceSelector?.matchExpressions?.[0], {
      key: 'kubernetes.io/metadata.name',
      operator: 'In',
      values: ['shop'],
    });
    assert.ok(cfg.webhooks.some((w) => w.namespaceSelector?.matchLabels?.team === 'pay'));
  });

  it('drops a policy that names only excluded namespaces (it can match nothing)', () => {
    const cfg = buildMutatingWebhookConfiguration(
      [p('greedy', { namespaces: ['kube-system', 'bulkhead-system'] }), p('ok', { namespaces: ['shop'] })],
      opts,
    );
    assert.equal(cfg.webhooks.length, 1);
    assert.deepEqual(cfg.webhooks[0]!.namespaceSelector!.matchExpressions![0]!.values, ['shop']);
    for (const w of cfg.webhooks)
      for (const e of w.namespaceSelector?.matchExpressions ?? [])
        if (e.operator === 'In' || e.operator === 'NotIn') assert.ok(e.values!.length > 0);
  });

  it('dedupes identical scopes and merges to stay within maxEntries', () => {
    const many = Array.from({ length: 200 }, (_, i) =>
      p(`p${i}`, { namespaces: [`ns-${i % 50}`], selector: { matchLabels: { app: `a${i}` } } }),
    );
    assert.equal(candidateScopes([p('a', { namespaces: ['x'] }), p('b', { namespaces: ['x'] })], 16).length, 1);
    const cfg = buildMutatingWebhookConfiguration(many, { ...opts, maxEntries: 16 });
    assert.equal(cfg.webhooks.length, 1);
    const inList = cfg.webhooks[0]!.namespaceSelector!.matchExpressions![0]!;
    assert.equal(inList.operator, 'In');
    assert.equal(inList.values!.length, 50, 'named namespaces stay precise');
    assert.equal(cfg.webhooks[0]!.objectSelector, undefined);
    assert.equal(
      buildMutatingWebhookConfiguration(many.slice(0, 60), { ...opts, maxEntries: 100 }).webhooks.length,
      60,
    );
  });

  it('is deterministic (same policies in another order, same output)', () => {
    const ps = [p('a', { namespaces: ['x'] }), p('b', { namespaceSelector: { matchLabels: { t: '1' } } })];
    assert.deepEqual(
      buildMutatingWebhookConfiguration(ps, opts).webhooks,
      buildMutatingWebhookConfiguration([...ps].reverse(), opts).webhooks,
    );
  });

  it('guards Bulkhead kinds fail-closed, including their status', () => {
    const cfg = buildValidatingWebhookConfiguration({
      ...opts,
      endpoint: { service: { namespace: 'bulkhead-system', name: 'bulkhead', port: 8443 } },
    });
    const w = cfg.webhooks[0]!;
    assert.equal(w.failurePolicy, 'Fail');
    assert.equal(w.sideEffects, 'None');
    assert.deepEqual(w.clientConfig.service, {
      namespace: 'bulkhead-system',
      name: 'bulkhead',
      port: 8443,
      path: '/validate',
    });
    assert.deepEqual(w.rules[0]!.operations, ['CREATE', 'UPDATE', 'DELETE']);
    assert.ok(w.rules[0]!.resources.includes('healthpolicies/status'));
    assert.ok(w.rules[0]!.resources.includes('quarantines'));
  });
});
