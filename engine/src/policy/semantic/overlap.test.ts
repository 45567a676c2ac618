import assert from 'node:assert/strict';
import type { HealthPolicy } from '../../core/api/index.js';
import { conflictingPairs, mayOverlap } from './overlap.js';

const P = (
  name: string,
  match: HealthPolicy['spec']['match'],
  type: HealthPolicy['spec']['action']['type'] = 'Quarantine',
  mode?: 'Enforce' | 'DryRun',
): HealthPolicy => ({
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name },
  spec: {
    match,
    probe: { tcp: { port: 80 } },
    detect: { rules: [{ type: 'CrashLoop' }] },
    action: { type, ...(mode ? { mode } : {}) },
  },
});

describe('overlapping policies', () => {
  it('disjoint namespace lists never overlap', () => {
    assert.equal(mayOverlap(P('a', { namespaces: ['x'] }), P('b', { namespaces: ['y'] })), false);
    assert.equal(mayOverlap(P('a', { namespaces: ['x', 'y'] }), P('b', { namespaces: ['y'] })), true);
  });

  it('a namespace list against a namespace selector may overlap (labels unknown statically)', () => {
    assert.equal(
      mayOverlap(P('a', { namespaces: ['x'] }), P('b', { namespaceSelector: { matchLabels: { env: 'prod' } } })),
      true,
    );
  });

  it('contradicting pod selectors never overlap', () => {
    assert.equal(
      mayOverlap(
        P('a', { selector: { matchLabels: { app: 'web' } } }),
        P('b', { selector: { matchLabels: { app: 'api' } } }),
      ),
      false,
    );
  });

  it('reports only pairs with different actions, honouring the repository default mode', () => {
    const ps = [
      P('a', {}, 'Quarantine'),
      P('b', {}, 'Quarantine', 'Enforce'),
      P('c', {}, 'Alert'),
      P('d', {}, 'Quarantine', 'DryRun'),
    ];
    assert.deepEqual(conflictingPairs(ps), [
      [0, 2],
      [0, 3],
      [1, 2],
      [1, 3],
      [2, 3],
    ]);
    assert.deepEqual(conflictingPairs(ps, 'DryRun'), [
      [0, 1],
      [0, 2],
      [1, 2],
      [1, 3],
      [2, 3],
    ]);
  });

  it('compares policies sharing a namespace, and cluster-wide ones with all, each pair once', () => {
    const ps = [
      P('a', { namespaces: ['x'] }, 'Quarantine'),
      P('b', { namespaces: ['x', 'y'] }, 'Alert'),
      P('c', { namespaces: ['y'] }, 'Restart'),
      P('d', {}, 'Isolate'),
    ];
    assert.deepEqual(conflictingPairs(ps), [
      [0, 1],
      [0, 3],
      [1, 2],
      [1, 3],
      [2, 3],
    ]);
  });
});
