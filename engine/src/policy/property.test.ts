// Property: whatever bytes arrive, the loader answers with policies or located diagnostics,
// never an exception. 10,000 inputs: valid policies mutated structurally, valid YAML text
// mutated byte by byte, and arbitrary values.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dump } from 'js-yaml';
import { CODES } from './diagnostic.js';
import { DEFAULT_LIMITS } from './limits.js';
import { analyzePolicyFile } from './policy-file.js';

const VALID = {
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name: 'web', labels: { team: 'a' } },
  spec: {
    match: {
      namespaces: ['shop'],
      selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['api'] }] },
    },
    probe: { http: { path: '/healthz', port: 8080 }, interval: '10s', timeout: '2s' },
    detect: {
      rules: [
        { type: 'ConsecutiveFailures', threshold: 3 },
        { type: 'ErrorRate', ratio: 0.5, window: '1m' },
      ],
    },
    action: {
      type: 'Quarantine',
      mode: 'DryRun',
      similar: { groupBy: ['app'], action: 'Isolate' },
      budget: { maxUnavailable: '25%' },
      releaseAfter: '1h',
    },
    forward: [{ url: 'https://x.example.com/in', batch: { maxReports: 10, maxWait: '5s' } }],
  },
};
const VALID_TEXT = dump(VALID);

/** Every path (as key lists) into the valid policy, to aim mutations at. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [prefix];
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
  return [prefix, ...entries.flatMap(([k, x]) => paths(x, [...prefix, k]))];
}
const ALL_PATHS = paths(VALID).filter((p) => p.length > 0);

type Mutation = { path: (string | number)[]; op: 'delete' | 'replace' | 'addKey'; value: unknown; key: string };

function mutate(m: Mutation): unknown {
  const copy = structuredClone(VALID) as Record<string, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const k of m.path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = m.path.at(-1)!;
  if (m.op === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (m.op === 'replace') {
    parent[last] = m.value;
  } else if (parent[last] !== null && typeof parent[last] === 'object' && !Array.isArray(parent[last])) {
    (parent[last] as Record<string, unknown>)[m.key] = m.value;
  }
  return copy;
}

const structural = fc
  .record({
    path: fc.constantFrom(...ALL_PATHS),
    op: fc.constantFrom('delete' as const, 'replace' as const, 'addKey' as const),
    value: fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.constantFrom(
        '10 seconds',
        '-1s',
        '0s',
        70000,
        'HTTP',
        'http://x',
        '',
        '%',
        '150%',
        -3,
        1e308,
        '1h',
        'DoesNotExist',
      ),
    ),
    key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('<<', '__proto__', 'constructor', 'status', 'tcp')),
  })
  .map((m) => Buffer.from(dump(mutate(m), { skipInvalid: true }), 'utf8'));

const NASTY = [
  ':',
  '-',
  ' ',
  '\t',
  '\n',
  '[',
  ']',
  '{',
  '}',
  '&a',
  '*a',
  '!',
  '!!binary',
  '%',
  '|',
  '>',
  '"',
  "'",
  '#',
  '---',
  '...',
  '? ',
  '\0',
  '\uFEFF',
  '\u2028',
  'é',
];
const textual = fc
  .array(
    fc.record({
      at: fc.nat({ max: VALID_TEXT.length }),
      del: fc.nat({ max: 6 }),
      insert: fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 4 })),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .map((edits) => {
    let t = VALID_TEXT;
    for (const e of edits) t = t.slice(0, e.at) + e.insert + t.slice(e.at + e.del);
    return Buffer.from(t, 'utf8');
  });

const rawBytes = fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b));
const anything = fc.anything({ maxDepth: 4 }).map((v) => Buffer.from(dump(v, { skipInvalid: true }), 'utf8'));

describe('loader property', function () {
  this.timeout(120_000);

  it('returns policies or located diagnostics for 10,000 mutated or random inputs, never throws', () => {
    let withErrors = 0;
    let valid = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          { arbitrary: structural, weight: 4 },
          { arbitrary: textual, weight: 4 },
          { arbitrary: anything, weight: 1 },
          { arbitrary: rawBytes, weight: 1 },
        ),
        (bytes) => {
          const r = analyzePolicyFile('policies/p.yaml', bytes, DEFAULT_LIMITS);
          assert.ok(r.policies.length > 0 || r.diagnostics.length > 0, 'an answer either way');
          for (const d of r.diagnostics) {
            assert.ok(d.code in CODES, `known code ${d.code}`);
            assert.ok(d.severity === 'error' || d.severity === 'warning');
            assert.ok(
              Number.isInteger(d.line) && d.line >= 1 && Number.isInteger(d.column) && d.column >= 1,
              `${d.code} at ${d.line}:${d.column}`,
            );
            assert.equal(typeof d.message, 'string');
            assert.ok(d.message.length > 0);
          }
          if (r.diagnostics.some((d) => d.severity === 'error')) withErrors++;
          else valid++;
        },
      ),
      { numRuns: 10_000 },
    );
    // The generators must exercise both outcomes, or the property proves little.
    assert.ok(withErrors > 1000, `${withErrors} inputs were rejected`);
    assert.ok(valid > 100, `${valid} inputs were accepted`);
  });
});
