// Inlines every $ref, because the CRD dialect has no $ref. Keywords beside a $ref (a field's
// own description or default) win over the referenced schema's, which is what a reader of the
// source schema expects. A cycle cannot be inlined, so it is an error, not a silent cut.
import { getPointer, resolveRef, type JsonSchema, type SchemaSet } from './schema-set.js';

export class SchemaToolError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'SchemaToolError';
  }
}

export function dereference(set: SchemaSet, root: { id: string; schema: JsonSchema }): JsonSchema {
  const walk = (node: unknown, baseId: string, path: string, stack: string[]): unknown => {
    if (Array.isArray(node)) return node.map((v, i) => walk(v, baseId, `${path}/${i}`, stack));
    if (node === null || typeof node !== 'object') return node;
    const obj = node as JsonSchema;
    const out: JsonSchema = {};
    let target: JsonSchema | undefined;
    if (typeof obj.$ref === 'string') {
      const { id, pointer } = resolveRef(baseId, obj.$ref);
      const key = `${id}#${pointer}`;
      if (stack.includes(key))
        throw new SchemaToolError([`${path}: recursive $ref ${obj.$ref} cannot be inlined into a CRD`]);
      const doc = set.byId.get(id);
      const found = doc ? getPointer(doc.schema, pointer) : undefined;
      if (!doc || found === undefined || found === null || typeof found !== 'object') {
        throw new SchemaToolError([`${path}: unresolvable $ref ${obj.$ref}`]);
      }
      target = walk(found, id, `${path}(${obj.$ref})`, [...stack, key]) as JsonSchema;
    }
    for (const [k, v] of Object.entries(obj)) {
      // Children of $defs are only reachable through refs; keep them out of the inlined tree.
      if (k === '$ref' || k === '$defs') continue;
      out[k] = walkKeyword(k, v, (child, sub) => walk(child, baseId, `${path}/${sub}`, stack));
    }
    return target ? { ...target, ...out } : out;
  };
  return walk(root.schema, root.id, '', []) as JsonSchema;
}

const SCHEMA_MAPS = new Set(['properties']);
const SCHEMA_VALUES = new Set(['items', 'additionalProperties', 'not']);
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf']);

/**
 * Applies `fn` to the subschemas of one keyword and copies every other keyword verbatim, so a
 * property that happens to be called `default` or `enum` is still treated as a schema.
 */
export function walkKeyword(k: string, v: unknown, fn: (child: unknown, sub: string) => unknown): unknown {
  if (SCHEMA_MAPS.has(k) && v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([name, child]) => [name, fn(child, `${k}/${name}`)]));
  }
  if (SCHEMA_VALUES.has(k) && v !== null && typeof v === 'object') return fn(v, k);
  if (SCHEMA_LISTS.has(k) && Array.isArray(v)) return v.map((child, i) => fn(child, `${k}/${i}`));
  return v;
}
