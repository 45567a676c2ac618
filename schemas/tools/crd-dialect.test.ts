import assert from 'node:assert/strict';
import { crdRootSchema, toCrdSchema } from './crd-dialect.js';
import { dereference, SchemaToolError } from './deref.js';
import type { JsonSchema, SchemaSet } from './schema-set.js';

const refused = (schema: JsonSchema): string[] => {
  try {
    toCrdSchema(schema);
  } catch (err) {
    assert.ok(err instanceof SchemaToolError);
    return err.problems;
  }
  assert.fail('expected the generator to refuse the schema');
};

describe('CRD dialect', () => {
  const cases: [string, JsonSchema, RegExp][] = [
    ['const', { type: 'string', const: 'x' }, /\/const: .*single-value enum/],
    ['patternProperties', { type: 'object', patternProperties: { '^a': { type: 'string' } } }, /\/patternProperties/],
    ['uniqueItems', { type: 'array', items: { type: 'string' }, uniqueItems: true }, /\/uniqueItems/],
    ['if/then/else', { type: 'object', if: { required: ['a'] }, then: { required: ['b'] } }, /\/if: /],
    ['a leftover $ref', { type: 'object', properties: { a: { $ref: '#/$defs/x' } } }, /\/properties\/a\/\$ref/],
    [
      'additionalProperties: true beside properties',
      { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: true },
      /must be false/,
    ],
    ['two types', { type: ['string', 'integer'] }, /exactly one type/],
    [
      'a node without a type',
      { type: 'object', properties: { a: { description: 'untyped' } } },
      /\/properties\/a: structural schemas need a type/,
    ],
    [
      'type inside oneOf',
      { type: 'object', oneOf: [{ type: 'object', required: ['a'] }] },
      /\/oneOf\/0\/type: .*not allowed inside/,
    ],
    ['an unknown keyword', { type: 'string', contentEncoding: 'base64' }, /unknown keyword `contentEncoding`/],
    [
      'exclusiveMinimum beside minimum',
      { type: 'number', minimum: 0, exclusiveMinimum: 0 },
      /both exclusiveMinimum and minimum/,
    ],
  ];
  for (const [name, schema, expected] of cases) {
    it(`refuses ${name} instead of dropping it`, () => {
      const problems = refused(schema);
      assert.ok(
        problems.some((p) => expected.test(p)),
        problems.join('\n'),
      );
    });
  }

  it('reports every problem at once, each with its path', () => {
    const problems = refused({
      type: 'object',
      properties: {
        a: { type: 'string', const: 'x' },
        b: { type: 'array', items: { type: 'string' }, uniqueItems: true },
      },
    });
    assert.equal(problems.length, 2);
  });

  it('translates what has an exact equivalent', () => {
    const out = toCrdSchema({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: 'T',
      type: 'object',
      additionalProperties: false,
      properties: {
        ratio: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        note: { type: ['string', 'null'] },
        port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
      },
    });
    assert.deepEqual(out, {
      type: 'object',
      properties: {
        ratio: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1 },
        note: { type: 'string', nullable: true },
        port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
      },
    });
  });

  it('treats a property named like a keyword as a property', () => {
    const out = toCrdSchema({ type: 'object', properties: { default: { type: 'string' }, enum: { type: 'integer' } } });
    assert.deepEqual(out.properties, { default: { type: 'string' }, enum: { type: 'integer' } });
  });

  it('leaves metadata to the apiserver at the root', () => {
    const out = crdRootSchema({
      type: 'object',
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { type: 'object', additionalProperties: true, properties: { name: { type: 'string' } } },
      },
    });
    assert.deepEqual((out.properties as JsonSchema).metadata, { type: 'object' });
  });
});

describe('dereference', () => {
  const set = (docs: JsonSchema[]): SchemaSet => {
    const files = docs.map((schema) => ({ file: 'x', name: 'x', id: String(schema.$id), schema }));
    return { kinds: files, defs: [], byId: new Map(files.map((f) => [f.id, f])) };
  };

  it('inlines refs across files, and a field description beside a ref wins', () => {
    const a = {
      $id: 'https://x/a.json',
      type: 'object',
      properties: { d: { description: 'mine', $ref: 'defs/b.json#/$defs/d' } },
    };
    const b = { $id: 'https://x/defs/b.json', $defs: { d: { description: 'shared', type: 'string', pattern: '^x' } } };
    const out = dereference(set([a, b]), { id: a.$id, schema: a });
    assert.deepEqual(out.properties, { d: { description: 'mine', type: 'string', pattern: '^x' } });
  });

  it('refuses a recursive ref, which a CRD cannot carry', () => {
    const a = {
      $id: 'https://x/a.json',
      $defs: { n: { type: 'object', properties: { next: { $ref: '#/$defs/n' } } } },
      $ref: '#/$defs/n',
    };
    assert.throws(
      () => dereference(set([a]), { id: a.$id, schema: a }),
      (e: unknown) => e instanceof SchemaToolError && /recursive/.test(e.message),
    );
  });

  it('refuses a ref that resolves to nothing', () => {
    const a = { $id: 'https://x/a.json', type: 'object', properties: { d: { $ref: '#/$defs/missing' } } };
    assert.throws(() => dereference(set([a]), { id: a.$id, schema: a }), /unresolvable/);
  });
});
