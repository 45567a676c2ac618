import { strict as assert } from 'node:assert';
import type { PlannedAction, Verdict } from '../analytics/index.js';
import type { Quarantine } from '../core/api/index.js';
import { avoidedNodesOf } from './avoided-nodes.js';
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

describe('avoidedNodesOf', () => {
  const q = (
    name: string,
    over: { node?: string; owner?: string; phase?: string; mode?: 'Enforce' | 'DryRun'; ns?: string } = {},
  ) =>
    ({
      metadata: { name, namespace: over.ns ?? 'shop' },
      spec: {
        pod: { name, uid: name },
        policy: 'p',
        reason: 'Manual',
        mode: over.mode ?? 'Enforce',
        time: 't',
        node: over.node ?? 'n1',
        owner: { kind: 'ReplicaSet', name: 'rs', uid: over.owner ?? 'rs-1' },
      },
      ...(over.phase ? { status: { phase: over.phase } } : {}),
    }) as Quarantine;
  it("the nodes of the owner's held pods, not released, not DryRun, not other owners or namespaces", () => {
    const list = [
      q('a'),
      q('b', { node: 'n2', phase: 'Isolated' }),
      q('c', { node: 'n3', phase: 'Released' }),
      q('d', { node: 'n4', mode: 'DryRun' }),
      q('e', { node: 'n5', owner: 'rs-2' }),
      q('f', { node: 'n6', ns: 'other' }),
      q('g'),
    ];
    assert.deepEqual(avoidedNodesOf(list, 'shop', 'rs-1'), ['n1', 'n2']);
    assert.deepEqual(avoidedNodesOf(list, 'shop', 'rs-9'), []);
  });
});
