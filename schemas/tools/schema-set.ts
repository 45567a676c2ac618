// Reads the schema files: every schemas/*.schema.json (one per kind or document format) and
// the shared definitions under schemas/defs/. Refs between them are resolved by $id, the way
// ajv resolves them at runtime, so the generators and the validator agree on what a ref means.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export type JsonSchema = { [key: string]: unknown };

export interface SchemaFile {
  /** File name relative to schemas/, e.g. `healthpolicy.schema.json` or `defs/common.schema.json`. */
  file: string;
  /** Base name without `.schema.json`, e.g. `healthpolicy`. */
  name: string;
  id: string;
  schema: JsonSchema;
}

export interface SchemaSet {
  /** Top-level schemas (one per kind/format), sorted by file name. */
  kinds: SchemaFile[];
  /** Shared definition files. */
  defs: SchemaFile[];
  byId: Map<string, SchemaFile>;
}

async function readSchemas(dir: string, prefix: string): Promise<SchemaFile[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.schema.json')).sort();
  const out: SchemaFile[] = [];
  for (const f of names) {
    const schema = JSON.parse(await readFile(join(dir, f), 'utf8')) as JsonSchema;
    if (typeof schema.$id !== 'string') throw new Error(`schemas/${prefix}${f}: needs an $id`);
    out.push({ file: `${prefix}${f}`, name: f.replace(/\.schema\.json$/, ''), id: schema.$id, schema });
  }
  return out;
}

export async function loadSchemaSet(schemasDir: string): Promise<SchemaSet> {
  const kinds = await readSchemas(schemasDir, '');
  const defs = await readSchemas(join(schemasDir, 'defs'), 'defs/');
  const byId = new Map<string, SchemaFile>();
  for (const s of [...kinds, ...defs]) {
    if (byId.has(s.id)) throw new Error(`schemas/${s.file}: duplicate $id ${s.id}`);
    byId.set(s.id, s);
  }
  return { kinds, defs, byId };
}

/** Splits a $ref against its base $id into the target document id and JSON pointer. */
export function resolveRef(baseId: string, ref: string): { id: string; pointer: string } {
  const url = new URL(ref, baseId);
  const pointer = decodeURIComponent(url.hash.replace(/^#/, ''));
  url.hash = '';
  return { id: url.toString(), pointer };
}

export function getPointer(doc: unknown, pointer: string): unknown {
  if (pointer === '' || pointer === '/') return doc;
  let cur: unknown = doc;
  for (const raw of pointer.replace(/^\//, '').split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}
