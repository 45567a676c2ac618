import { strict as assert } from 'node:assert';
import { avoidNodesPatch, controllerUid } from './placement.js';

describe('avoidNodesPatch (replacement.avoidNode: AntiAffinity, pure)', () => {
  const avoid = { key: 'metadata.name', operator: 'NotIn', values: ['n1'] };
  it('gives a pod without affinity one required term that excludes the nodes', () => {
    assert.deepEqual(avoidNodesPatch({}, ['n1']), {
      op: 'add',
      path: '/spec/affinity',
      value: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [avoid] }] },
        },
      },
    });
  });
  it('adds the exclusion to every term of an existing required affinity and keeps the rest', () => {
    const spec = {
      affinity: {
        podAntiAffinity: { x: 1 },
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1 }],
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
              { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1', 'n2'] }] },
            ],
          },
        },
      },
    };
    const before = structuredClone(spec);
    const op = avoidNodesPatch(spec, ['n1'])!;
    const value = op.value as typeof spec.affinity & {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: { matchFields?: unknown[] }[] };
      };
    };
    assert.deepEqual(value.podAntiAffinity, { x: 1 });
    assert.deepEqual(value.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution, [{ weight: 1 }]);
    assert.deepEqual(
      value.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.map((t) => t.matchFields),
      [[avoid], [{ key: 'metadata.name', operator: 'In', values: ['n1', 'n2'] }, avoid]],
    );
    assert.deepEqual(spec, before, 'the admitted object is not mutated');
  });
  it('no nodes, no patch; the controller is the owner that replaces the pod', () => {
    assert.equal(avoidNodesPatch({}, []), undefined);
    assert.equal(
      controllerUid({ metadata: { ownerReferences: [{ uid: 'a' }, { uid: 'rs', controller: true }] } }),
      'rs',
    );
    assert.equal(controllerUid({ metadata: {} }), undefined);
  });
});
