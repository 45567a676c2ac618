import assert from 'node:assert/strict';
import type { LabelSelector } from '../../core/api/index.js';
import { labelKeyProblem, labelValueProblem } from './labels.js';
import { checkSelector, selectorsCanAllMatch } from './selectors.js';

describe('label keys and values (as Kubernetes validates them)', () => {
  const keys: [string, boolean][] = [
    ['app', true],
    ['app.kubernetes.io/name', true],
    ['a', true],
    ['A_b.c-D', true],
    ['x'.repeat(63), true],
    ['x'.repeat(64), false],
    ['-app', false],
    ['app-', false],
    ['/name', false],
    ['Example.com/name', false],
    ['example.com/', false],
    ['a/b/c', false],
    ['has space', false],
    [`${'a'.repeat(254)}/x`, false],
  ];
  for (const [key, ok] of keys)
    it(`key ${JSON.stringify(key.length > 20 ? `${key.slice(0, 12)}…(${key.length})` : key)} is ${ok ? 'valid' : 'invalid'}`, () =>
      assert.equal(labelKeyProblem(key) === null, ok));

  const values: [string, boolean][] = [
    ['', true],
    ['v1.2.3', true],
    ['a_b-c', true],
    ['-a', false],
    ['a b', false],
    ['x'.repeat(64), false],
  ];
  for (const [v, ok] of values)
    it(`value ${JSON.stringify(v.slice(0, 20))} is ${ok ? 'valid' : 'invalid'}`, () =>
      assert.equal(labelValueProblem(v) === null, ok));
});

describe('checkSelector', () => {
  it('requires values for In/NotIn and none for Exists/DoesNotExist', () => {
    const issues = checkSelector(
      {
        matchExpressions: [
          { key: 'a', operator: 'In' },
          { key: 'b', operator: 'NotIn', values: [] },
          { key: 'c', operator: 'Exists', values: ['x'] },
          { key: 'd', operator: 'DoesNotExist' },
        ],
      },
      '/s',
    );
    assert.deepEqual(
      issues.map((i) => `${i.code} ${i.pointer}`),
      [
        'BH_SELECTOR /s/matchExpressions/0/operator',
        'BH_SELECTOR /s/matchExpressions/1/operator',
        'BH_SELECTOR /s/matchExpressions/2/values',
      ],
    );
  });
});

describe('selectorsCanAllMatch', () => {
  const S = (
    matchLabels?: Record<string, string>,
    matchExpressions?: LabelSelector['matchExpressions'],
  ): LabelSelector => ({ ...(matchLabels ? { matchLabels } : {}), ...(matchExpressions ? { matchExpressions } : {}) });
  const table: [string, (LabelSelector | undefined)[], boolean][] = [
    ['no selectors match everything', [undefined, undefined], true],
    ['same label, same value', [S({ app: 'web' }), S({ app: 'web' })], true],
    ['same label, different values', [S({ app: 'web' }), S({ app: 'api' })], false],
    ['different labels can coexist', [S({ app: 'web' }), S({ tier: 'api' })], true],
    [
      'In overlapping sets',
      [
        S(undefined, [{ key: 'app', operator: 'In', values: ['a', 'b'] }]),
        S(undefined, [{ key: 'app', operator: 'In', values: ['b', 'c'] }]),
      ],
      true,
    ],
    [
      'In disjoint sets',
      [
        S(undefined, [{ key: 'app', operator: 'In', values: ['a'] }]),
        S(undefined, [{ key: 'app', operator: 'In', values: ['c'] }]),
      ],
      false,
    ],
    [
      'matchLabels vs NotIn of that value',
      [S({ app: 'web' }), S(undefined, [{ key: 'app', operator: 'NotIn', values: ['web'] }])],
      false,
    ],
    [
      'matchLabels vs NotIn of another value',
      [S({ app: 'web' }), S(undefined, [{ key: 'app', operator: 'NotIn', values: ['api'] }])],
      true,
    ],
    [
      'Exists vs DoesNotExist',
      [
        S(undefined, [{ key: 'canary', operator: 'Exists' }]),
        S(undefined, [{ key: 'canary', operator: 'DoesNotExist' }]),
      ],
      false,
    ],
    [
      'matchLabels vs DoesNotExist',
      [S({ canary: 'true' }), S(undefined, [{ key: 'canary', operator: 'DoesNotExist' }])],
      false,
    ],
    [
      'NotIn vs DoesNotExist can both hold',
      [
        S(undefined, [{ key: 'x', operator: 'NotIn', values: ['a'] }]),
        S(undefined, [{ key: 'x', operator: 'DoesNotExist' }]),
      ],
      true,
    ],
    [
      'a contradiction within one selector',
      [S({ app: 'web' }, [{ key: 'app', operator: 'In', values: ['api'] }])],
      false,
    ],
  ];
  for (const [name, sels, want] of table)
    it(`${name} → ${want ? 'may overlap' : 'disjoint'}`, () => assert.equal(selectorsCanAllMatch(sels), want));
});
