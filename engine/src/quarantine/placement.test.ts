import { strict as assert } from 'node:assert';
import type { PlannedAction, Verdict } from '../analytics/index.js';
import { nodesToTaint } from './placement.js';

const act = (
  name: string,
  node: string,
  action: PlannedAction['action'] = 'Quarantine',
  role: PlannedAction['role'] = 'primary',
): PlannedAction => ({
  pod: { namespace: 'shop', name, uid: `u-${name}`, node, labels: {}, samples: [], events: [] },
  action,
  role,
  reason: 'x',
  message: 'x',
  signals: [],
});
const verdict = (over: Partial<Verdict>, scope: 'pod' | 'node' = 'pod'): Verdict => ({
  policy: 'p',
  mode: 'Enforce',
  incident: { key: `${scope}/n1`, scope, value: 'n1', members: [] },
  actions: [],
  ...over,
});

describe('nodesToTaint (placement, pure)', () => {
  it('avoidNode Taint: the node of every failing pod to be detached, not of siblings or isolate-only pods', () => {
    const allowed = [act('a', 'n1'), act('b', 'n2', 'Isolate'), act('c', 'n3', 'Isolate', 'similar'), act('d', 'n1')];
    assert.deepEqual(nodesToTaint(verdict({ avoidNode: 'Taint' }), allowed), ['n1']);
  });
  it('taintNode: the node of a node-wide incident, only when a pod there is held', () => {
    assert.deepEqual(nodesToTaint(verdict({ taintNode: true }, 'node'), [act('a', 'n1', 'Isolate')]), ['n1']);
    assert.deepEqual(nodesToTaint(verdict({ taintNode: true }, 'node'), [act('a', 'n1', 'Alert')]), []);
    assert.deepEqual(nodesToTaint(verdict({ taintNode: true }, 'pod'), [act('a', 'n1')]), []);
  });
  it('never in DryRun, never for what the budget held back', () => {
    assert.deepEqual(nodesToTaint(verdict({ avoidNode: 'Taint', mode: 'DryRun' }), [act('a', 'n1')]), []);
    assert.deepEqual(nodesToTaint(verdict({ avoidNode: 'Taint' }), []), []);
  });
});
