import { strict as assert } from 'node:assert';
import type { KubeObject } from '../core/kube/resources.js';
import { isSubset, fieldChanges } from './diff.js';
import { inventoryLabels } from './inventory.js';
import { computePlan } from './plan.js';
import { desiredObjects } from './desired.js';

const hp = (name: string, spec: Record<string, unknown>, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name, labels: inventoryLabels('src'), ...extra },
  spec,
});
const applied = [{ manager: 'bulkhead', operation: 'Apply' }];

describe('computePlan', () => {
  it('creates, updates, prunes and leaves alone', () => {
    const desired = [hp('new', { a: 1 }), hp('changed', { a: 2 }), hp('same', { a: 1 })];
    const live = [
      hp('changed', { a: 1 }, { managedFields: applied }),
      // the apiserver defaulted a field: not a change
      hp('same', { a: 1, defaulted: true }, { managedFields: applied }),
      hp('gone', { a: 1 }, { managedFields: applied }),
    ];
    const plan = computePlan(desired, live, 'src');
    assert.deepEqual(
      plan.items.map((i) => `${i.action}:${i.name}`),
      ['update:changed', 'prune:gone', 'create:new', 'unchanged:same'],
    );
    assert.deepEqual(plan.items[0]!.changes, [{ path: '.spec.a', before: 1, after: 2 }]);
  });

  it('never prunes what is not in its inventory', () => {
    const live = [
      hp('handmade', { a: 1 }, { labels: {} }),
      hp(
        'labelled-by-hand',
        { a: 1 },
        { managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update' }] },
      ),
      hp('other-source', { a: 1 }, { labels: inventoryLabels('another'), managedFields: applied }),
    ];
    assert.equal(computePlan([], live, 'src').counts.prune, 0);
  });

  it('sees a hand edit of a managed field as drift to correct', () => {
    const plan = computePlan([hp('p', { a: 1 })], [hp('p', { a: 5 }, { managedFields: applied })], 'src');
    assert.equal(plan.counts.update, 1);
  });
});

describe('isSubset / fieldChanges', () => {
  const cases: [unknown, unknown, boolean][] = [
    [{ a: 1 }, { a: 1, b: 2 }, true],
    [{ a: [1, 2] }, { a: [1, 2] }, true],
    [{ a: [1, 2] }, { a: [1, 2, 3] }, false],
    [{ a: [{ x: 1 }] }, { a: [{ x: 1, y: 2 }] }, true],
    [{ a: { b: 1 } }, { a: null }, false],
    [{ a: 1 }, {}, false],
  ];
  for (const [want, have, expected] of cases) {
    it(`${JSON.stringify(want)} ⊆ ${JSON.stringify(have)} is ${expected}`, () =>
      assert.equal(isSubset(want, have), expected));
  }
  it('lists changed paths, capped', () => {
    assert.deepEqual(fieldChanges({ a: 1, b: { c: 2 } }, { a: 1, b: { c: 3 }, d: 4 }), [
      { path: '.b.c', before: 2, after: 3 },
      { path: '.d', after: 4 },
    ]);
    assert.equal(fieldChanges({ a: 1, b: 1, c: 1 }, { a: 2, b: 2, c: 2 }, 2).length, 2);
  });
});

describe('desiredObjects', () => {
  const loaded = [
    {
      policy: {
        apiVersion: 'bulkhead.dev/v1alpha1' as const,
        kind: 'HealthPolicy' as const,
        metadata: { name: 'p', labels: { team: 'x' } },
        spec: { match: {}, probe: {}, detect: { rules: [] }, action: { type: 'Alert' } } as never,
      },
      file: 'policies/p.yaml',
      line: 7,
    },
  ];
  it('adds inventory labels, the file:line annotation and the owning PolicySource', () => {
    const [o] = desiredObjects(loaded, { name: 'src', uid: 'u-1' });
    assert.deepEqual(o!.metadata.labels, { team: 'x', ...inventoryLabels('src') });
    assert.equal(o!.metadata.annotations?.['bulkhead.dev/source'], 'policies/p.yaml:7');
    assert.deepEqual(o!.metadata.ownerReferences, [
      { apiVersion: 'bulkhead.dev/v1alpha1', kind: 'PolicySource', name: 'src', uid: 'u-1' },
    ]);
    assert.equal('status' in o!, false);
  });
  it('names the repository (without userinfo), so the guard can say where to change it', () => {
    const [o] = desiredObjects(loaded, { name: 'src', url: 'https://bot:s3cret@git.example/p.git' });
    assert.equal(o!.metadata.annotations?.['bulkhead.dev/source-repo'], 'https://***@git.example/p.git');
    assert.equal(
      desiredObjects(loaded, { name: 'local' })[0]!.metadata.annotations?.['bulkhead.dev/source-repo'],
      undefined,
    );
  });
  it('has no owner for a local folder source (no object, no uid)', () => {
    assert.equal(desiredObjects(loaded, { name: 'local' })[0]!.metadata.ownerReferences, undefined);
  });
});
