import { strict as assert } from 'node:assert';
import { similarSteps } from './similar-record.js';
import type { TakenAction } from './taken-action.js';
import { selectorQuery } from './sibling-pods.js';

const now = new Date('2026-12-02T00:00:00Z');
const sib = (
  pod: string,
  action: TakenAction['action'] = 'Isolate',
  outcome: TakenAction['outcome'] = 'done',
): TakenAction => ({
  pod,
  namespace: 'shop',
  action,
  role: 'similar',
  outcome,
  ...(action === 'Isolate' ? { quarantine: `${pod}-1234abcd` } : {}),
});

describe('similarSteps (one record for the whole decision, pure)', () => {
  it('one step per sibling with its outcome; siblings already named are not added again', () => {
    const steps = similarSteps(
      [{ type: 'Isolate', time: 't' }],
      [sib('b'), sib('c', 'Restart', 'blocked'), sib('d', 'Alert')],
      now,
    );
    assert.deepEqual(
      steps.map((s) => [s.type, s.detail]),
      [
        ['SimilarIsolate', 'shop/b: done (Quarantine b-1234abcd)'],
        ['SimilarRestart', 'shop/c: blocked'],
        ['SimilarAlert', 'shop/d: done'],
      ],
    );
    assert.deepEqual(similarSteps(steps, [sib('b')], now), [], 'a repeated verdict adds nothing');
  });
  it('stays within the 16 steps the schema allows: the last one counts the rest', () => {
    const many = Array.from({ length: 20 }, (_, i) => sib(`p${i}`, 'Alert'));
    const steps = similarSteps(
      [
        { type: 'Isolate', time: 't' },
        { type: 'Detach', time: 't' },
      ],
      many,
      now,
    );
    assert.equal(steps.length, 14);
    assert.match(steps[13]!.detail!, /^and 7 more similar pods: shop\/p13 Alert done/);
  });
});

describe('selectorQuery', () => {
  it("writes a LabelSelector in Kubernetes' query syntax", () => {
    assert.equal(
      selectorQuery({
        matchLabels: { app: 'api' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['web', 'edge'] },
          { key: 'canary', operator: 'DoesNotExist' },
          { key: 'team', operator: 'Exists' },
          { key: 'env', operator: 'NotIn', values: ['dev'] },
        ],
      }),
      'app=api,tier in (web,edge),!canary,team,env notin (dev)',
    );
    assert.equal(selectorQuery(undefined), '');
  });
});
