import { strict as assert } from 'node:assert';
import type { InjectablePolicy } from './policy.js';
import { PolicyIndex } from './policy-index.js';
import { compileSelector } from './selector.js';

const policy = (name: string, match: InjectablePolicy['spec']['match']): InjectablePolicy => ({
  metadata: { name },
  spec: { match, probe: { http: { path: '/healthz', port: 8080 } } },
});

describe('label selector', () => {
  const cases: [string, Parameters<typeof compileSelector>[0], Record<string, string> | undefined, boolean][] = [
    ['empty matches all', {}, { a: '1' }, true],
    ['undefined matches all', undefined, undefined, true],
    ['matchLabels hit', { matchLabels: { app: 'web' } }, { app: 'web', x: 'y' }, true],
    ['matchLabels miss', { matchLabels: { app: 'web' } }, { app: 'db' }, false],
    ['In', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] }, { tier: 'b' }, true],
    ['In without the key', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] }, {}, false],
    ['NotIn without the key', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['a'] }] }, {}, true],
    ['NotIn hit', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['a'] }] }, { tier: 'a' }, false],
    ['Exists', { matchExpressions: [{ key: 'k', operator: 'Exists' }] }, { k: '' }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'k', operator: 'DoesNotExist' }] }, { k: 'v' }, false],
    [
      'unknown operator matches nothing',
      { matchExpressions: [{ key: 'k', operator: 'Gt', values: ['1'] }] },
      { k: '2' },
      false,
    ],
  ];
  for (const [title, sel, labels, want] of cases) it(title, () => assert.equal(compileSelector(sel)(labels), want));
});

describe('PolicyIndex', () => {
  const excludedNamespaces = ['kube-system', 'kube-public', 'bulkhead-system'];

  it('matches by namespace name, namespace labels and pod labels (all must hold)', () => {
    const idx = new PolicyIndex(
      [
        policy('by-name', { namespaces: ['shop'] }),
        policy('by-label', {
          namespaceSelector: { matchLabels: { team: 'pay' } },
          selector: { matchLabels: { app: 'api' } },
        }),
        policy('both', { namespaces: ['shop'], namespaceSelector: { matchLabels: { env: 'prod' } } }),
      ],
      { excludedNamespaces },
    );
    assert.deepEqual(
      idx.match('shop', { env: 'dev' }, {}).policies.map((p) => p.name),
      ['by-name'],
    );
    assert.deepEqual(
      idx.match('shop', { env: 'prod' }, {}).policies.map((p) => p.name),
      ['both', 'by-name'],
    );
    assert.deepEqual(
      idx.match('pay-1', { team: 'pay' }, { app: 'api' }).policies.map((p) => p.name),
      ['by-label'],
    );
    const miss = idx.match('pay-1', { team: 'pay' }, { app: 'worker' });
    assert.equal(miss.policies.length, 0);
    assert.match(miss.reason ?? '', /none selects the pod/);
    assert.match(idx.match('other', {}, {}).reason ?? '', /no policy selects namespace other/);
  });

  it('never matches the excluded namespaces, even for a match-everything policy', () => {
    const idx = new PolicyIndex([policy('all', {}), policy('named', { namespaces: ['kube-system'] })], {
      excludedNamespaces,
    });
    for (const ns of excludedNamespaces) {
      const m = idx.match(ns, {}, {});
      assert.equal(m.policies.length, 0, ns);
      assert.match(m.reason ?? '', /always excluded/);
    }
    assert.deepEqual(
      idx.match('app', {}, {}).policies.map((p) => p.name),
      ['all'],
    );
  });

  it('orders matches most specific first, then by name', () => {
    const idx = new PolicyIndex(
      [
        policy('z-all', {}),
        policy('b-named', { namespaces: ['a'] }),
        policy('a-named', { namespaces: ['a'] }),
        policy('pods', { selector: { matchLabels: { app: 'x' } } }),
      ],
      { excludedNamespaces },
    );
    assert.deepEqual(
      idx.match('a', {}, { app: 'x' }).policies.map((p) => p.name),
      ['pods', 'a-named', 'b-named', 'z-all'],
    );
  });

  it('re-resolves a namespace when its labels change (cached otherwise)', () => {
    const idx = new PolicyIndex([policy('p', { namespaceSelector: { matchLabels: { on: 'yes' } } })], {
      excludedNamespaces,
    });
    assert.equal(idx.candidates('n', { on: 'no' }).length, 0);
    assert.equal(idx.candidates('n', { on: 'no' }), idx.candidates('n', { on: 'no' }), 'cached');
    assert.equal(idx.candidates('n', { on: 'yes' }).length, 1);
  });

  it('does not look at policies of other namespaces', () => {
    // 10,000 policies for other namespaces; the pod's namespace has one candidate.
    const many = Array.from({ length: 10_000 }, (_, i) =>
      policy(`p${i}`, { namespaces: [`ns-${i}`], selector: { matchLabels: { app: `a${i}` } } }),
    );
    const idx = new PolicyIndex([...many, policy('mine', { namespaces: ['mine'] })], { excludedNamespaces });
    assert.equal(idx.candidates('mine', {}).length, 1);
    assert.deepEqual(
      idx.match('mine', {}, { app: 'a5' }).policies.map((p) => p.name),
      ['mine'],
    );
  });
});
