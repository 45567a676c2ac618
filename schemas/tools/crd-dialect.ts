// Converts a dereferenced JSON Schema (2020-12) into the structural OpenAPI v3.0 subset that
// a CRD's openAPIV3Schema accepts. It translates what has an exact equivalent and refuses
// everything else with the path of the offending node: silently dropping a keyword would make
// the apiserver accept objects that `bulkhead validate` rejects.
import { SchemaToolError, walkKeyword } from './deref.js';
import type { JsonSchema } from './schema-set.js';

/** Keywords copied unchanged: their meaning is the same in both dialects. */
const CARRIED = new Set([
  'type',
  'format',
  'description',
  'default',
  'enum',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'multipleOf',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'required',
  'items',
  'properties',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'nullable',
]);

/** Annotations that only serve the JSON Schema tooling (ids, TS type names); no validation. */
const ANNOTATIONS = new Set(['$schema', '$id', '$comment', '$defs', 'title']);

/** Keywords the CRD dialect cannot carry, with what to write instead. */
const REFUSED: Record<string, string> = {
  $ref: 'refs must be dereferenced first (a recursive ref cannot be)',
  const: 'use a single-value enum',
  patternProperties: 'not supported by structural schemas; use additionalProperties with a schema',
  uniqueItems: 'not supported by structural schemas; use x-kubernetes-list-type: set',
  if: 'conditional schemas are not supported; use oneOf/anyOf of value validations',
  then: 'conditional schemas are not supported',
  else: 'conditional schemas are not supported',
  dependentRequired: 'not supported in OpenAPI 3.0',
  dependentSchemas: 'not supported in OpenAPI 3.0',
  propertyNames: 'not supported by structural schemas',
  prefixItems: 'tuples are not supported',
  contains: 'not supported in OpenAPI 3.0',
  unevaluatedProperties: 'not supported in OpenAPI 3.0',
  unevaluatedItems: 'not supported in OpenAPI 3.0',
  examples: 'OpenAPI 3.0 has a single `example`',
};

/** Inside allOf/anyOf/oneOf/not, structural schemas allow value validations only. */
const NOT_IN_BRANCHES = ['type', 'description', 'default', 'additionalProperties', 'nullable'];

export function toCrdSchema(root: JsonSchema): JsonSchema {
  const problems: string[] = [];
  const convert = (node: unknown, path: string, inBranch: boolean, intOrString: boolean): JsonSchema => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      problems.push(`${path || '/'}: a schema must be an object`);
      return {};
    }
    const src = node as JsonSchema;
    const out: JsonSchema = {};
    const isIntOrString = src['x-kubernetes-int-or-string'] === true;
    for (const [k, v] of Object.entries(src)) {
      const at = `${path}/${k}`;
      if (ANNOTATIONS.has(k)) continue;
      if (k in REFUSED) {
        problems.push(`${at}: \`${k}\` cannot be carried into a CRD: ${REFUSED[k]}`);
        continue;
      }
      if (inBranch && !intOrString && NOT_IN_BRANCHES.includes(k)) {
        problems.push(`${at}: \`${k}\` is not allowed inside allOf/anyOf/oneOf/not of a structural schema`);
        continue;
      }
      if (k.startsWith('x-kubernetes-')) {
        out[k] = v;
        continue;
      }
      if (k === 'type') {
        const types = Array.isArray(v) ? v : [v];
        const real = types.filter((t) => t !== 'null');
        if (real.length !== 1) {
          problems.push(`${at}: exactly one type per node (plus "null"), got ${JSON.stringify(v)}`);
          continue;
        }
        out.type = real[0];
        if (real.length !== types.length) out.nullable = true;
        continue;
      }
      if (k === 'exclusiveMinimum' || k === 'exclusiveMaximum') {
        // 2020-12 writes the bound as the value; OpenAPI 3.0 uses minimum/maximum plus a flag.
        const bound = k === 'exclusiveMinimum' ? 'minimum' : 'maximum';
        if (typeof v !== 'number') {
          problems.push(`${at}: expected a number`);
        } else if (bound in src) {
          problems.push(`${at}: both ${k} and ${bound} given; keep one`);
        } else {
          out[bound] = v;
          out[k] = true;
        }
        continue;
      }
      if (k === 'additionalProperties') {
        if ('properties' in src) {
          // Beside properties, only `false` is meaningful, and a structural schema already
          // means that: unknown fields are pruned, and rejected under fieldValidation=Strict.
          if (v !== false) problems.push(`${at}: additionalProperties beside properties must be false`);
        } else if (v === false || v === true) {
          problems.push(`${at}: use properties (or a value schema) instead of additionalProperties: ${String(v)}`);
        } else {
          out[k] = convert(v, at, inBranch, false);
        }
        continue;
      }
      if (!CARRIED.has(k)) {
        problems.push(`${at}: unknown keyword \`${k}\` cannot be carried into a CRD`);
        continue;
      }
      const branch = k === 'allOf' || k === 'anyOf' || k === 'oneOf' || k === 'not';
      out[k] = walkKeyword(k, v, (child, sub) =>
        convert(child, `${path}/${sub}`, inBranch || branch, branch && isIntOrString),
      );
    }
    const typed = 'type' in out || isIntOrString || out['x-kubernetes-preserve-unknown-fields'] === true;
    if (!inBranch && !typed) problems.push(`${path || '/'}: structural schemas need a type on every node`);
    return out;
  };
  const result = convert(root, '', false, false);
  if (problems.length > 0) throw new SchemaToolError(problems);
  return result;
}

/**
 * The root of a CRD schema: the apiserver owns and validates metadata itself, and allows no
 * restrictions on it beyond name, so metadata is an opaque object here; the loader still
 * checks the author's metadata against the full schema.
 */
export function crdRootSchema(root: JsonSchema): JsonSchema {
  const props = { ...(root.properties as Record<string, JsonSchema> | undefined) };
  const hasMetadata = 'metadata' in props;
  delete props.metadata;
  const converted = toCrdSchema({ ...root, properties: props });
  if (!hasMetadata) return converted;
  const { apiVersion, kind, ...rest } = converted.properties as Record<string, JsonSchema>;
  return { ...converted, properties: { apiVersion, kind, metadata: { type: 'object' }, ...rest } };
}
