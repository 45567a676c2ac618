// ajv, compiled once from the generated copy of schemas/, and its errors turned into
// diagnostics at the exact key or value they are about.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { fieldHomes, schemaDocuments, schemaIds } from '../core/api/generated/schemas.js';
import type { DiagnosticCode } from './diagnostic.js';
import { readablePath } from './pointer.js';
import { closest } from './suggest.js';
import { escapePointer } from './yaml-documents.js';

export type SchemaName = 'healthpolicy' | 'repo-settings';

export interface SchemaIssue {
  code: DiagnosticCode;
  message: string;
  hint?: string;
  /** JSON pointer of the node the issue is about. */
  pointer: string;
  /** Point at the key (unknown field) rather than the value. */
  at: 'key' | 'value';
  /** The part of the document this issue makes unreliable for further checks. */
  broken: string;
}

let compiled: Map<SchemaName, ValidateFunction> | undefined;

/** Compiled on first use (not at import), then shared: compiling costs ~50 ms, validating µs. */
function validators(): Map<SchemaName, ValidateFunction> {
  if (compiled) return compiled;
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    strictRequired: false,
    verbose: true,
    allowUnionTypes: false,
  });
  // CRD extensions are annotations to JSON Schema; the CRD generator carries them over.
  ajv.addVocabulary([
    'x-kubernetes-int-or-string',
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-preserve-unknown-fields',
  ]);
  addFormats.default(ajv, ['date-time']);
  // OpenAPI's int64 is a width hint for generated clients; JSON numbers carry it as an integer.
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  const wanted = new Set<string>([schemaIds.healthpolicy, schemaIds['repo-settings']]);
  for (const doc of schemaDocuments) {
    const id = String(doc.$id);
    if (wanted.has(id) || id.includes('/defs/')) ajv.addSchema(doc);
  }
  compiled = new Map<SchemaName, ValidateFunction>([
    ['healthpolicy', ajv.getSchema(schemaIds.healthpolicy)!],
    ['repo-settings', ajv.getSchema(schemaIds['repo-settings'])!],
  ]);
  return compiled;
}

const TYPE_NAMES: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

const describe = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'an array'
      : typeof v === 'object'
        ? 'a mapping'
        : `${typeof v} ${JSON.stringify(v).slice(0, 40)}`;

/** "did you mean" among siblings first; else where the field does belong (mis-indentation). */
function unknownFieldHint(schema: SchemaName, field: string, known: string[]): string {
  const guess = closest(field, known);
  if (guess) return `did you mean "${guess}"?`;
  // The field name is the author's text: `constructor` must not find Object.prototype's.
  const index = fieldHomes[schema];
  const homes = index && Object.hasOwn(index, field) ? index[field] : undefined;
  if (homes?.length) return `"${field}" belongs under ${homes.join(' or ')}: check its indentation`;
  return `allowed here: ${known.join(', ')}`;
}

type RawIssue = Omit<SchemaIssue, 'broken'> & { broken?: string };

function toIssue(schema: SchemaName, e: ErrorObject): RawIssue {
  const path = readablePath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const field = String(p.additionalProperty);
      const known = Object.keys(((e.parentSchema as { properties?: object } | undefined)?.properties ?? {}) as object);
      return {
        code: 'BH_UNKNOWN_FIELD',
        message: `unknown field "${field}" in ${path}`,
        hint: unknownFieldHint(schema, field, known),
        pointer: `${e.instancePath}/${escapePointer(field)}`,
        at: 'key',
      };
    }
    case 'required':
      return {
        code: 'BH_MISSING_FIELD',
        message: `${path} is missing the required field "${String(p.missingProperty)}"`,
        pointer: e.instancePath,
        at: 'key',
        broken: `${e.instancePath}/${escapePointer(String(p.missingProperty))}`,
      };
    case 'type':
      return {
        code: 'BH_WRONG_TYPE',
        message: `${path} must be ${TYPE_NAMES[String(p.type)] ?? String(p.type)}, not ${describe(e.data)}`,
        pointer: e.instancePath,
        at: 'value',
      };
    case 'anyOf':
      return {
        code: 'BH_WRONG_TYPE',
        message: `${path} must be an integer or a string, not ${describe(e.data)}`,
        pointer: e.instancePath,
        at: 'value',
      };
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map(String);
      const guess = typeof e.data === 'string' ? closest(e.data, allowed) : undefined;
      return {
        code: 'BH_INVALID_VALUE',
        message: `${path} must be one of ${allowed.join(', ')}; got ${JSON.stringify(e.data)}`,
        ...(guess ? { hint: `did you mean "${guess}"?` } : {}),
        pointer: e.instancePath,
        at: 'value',
      };
    }
    case 'pattern':
      if (e.schemaPath.includes('/duration/')) {
        return {
          code: 'BH_DURATION',
          message: `${path}: ${JSON.stringify(e.data)} is not a duration`,
          hint: 'write a number with a unit: 500ms, 10s, 5m, 1h30m',
          pointer: e.instancePath,
          at: 'value',
        };
      }
      {
        // The field's description says what the pattern means in words; the regex is the fallback.
        const meaning = (e.parentSchema as { description?: string } | undefined)?.description;
        return {
          code: 'BH_INVALID_VALUE',
          message: `${path}: ${JSON.stringify(e.data)} is not valid here`,
          hint: meaning ?? `must match ${String(p.pattern)}`,
          pointer: e.instancePath,
          at: 'value',
        };
      }
    case 'format':
      return {
        code: 'BH_INVALID_VALUE',
        message: `${path} must be a valid ${String(p.format)}`,
        pointer: e.instancePath,
        at: 'value',
      };
    case 'oneOf': {
      const branches = ((e.parentSchema as { oneOf?: { required?: string[] }[] } | undefined)?.oneOf ?? []).flatMap(
        (b) => b.required ?? [],
      );
      return {
        code: 'BH_EXCLUSIVE_FIELDS',
        message: `${path} needs exactly one of ${branches.join(', ')}`,
        pointer: e.instancePath,
        at: 'key',
      };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'minLength':
    case 'maxLength':
    case 'minItems':
    case 'maxItems':
    case 'minProperties':
    case 'maxProperties':
      return {
        code: 'BH_OUT_OF_RANGE',
        message: `${path} ${e.message ?? 'is out of range'}`,
        pointer: e.instancePath,
        at: 'value',
      };
    default:
      return {
        code: 'BH_SCHEMA',
        message: `${path} ${e.message ?? 'is invalid'}`,
        pointer: e.instancePath,
        at: 'value',
      };
  }
}

/**
 * Issues for one document. Errors inside an anyOf/oneOf branch are noise once the anyOf/oneOf
 * itself is reported ("must be integer", "must be string", "must match a schema in anyOf"),
 * so only the combined one is kept.
 */
export function validateAgainstSchema(name: SchemaName, value: unknown): SchemaIssue[] {
  const validate = validators().get(name)!;
  if (validate(value)) return [];
  const errors = validate.errors ?? [];
  const combinators = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const kept = errors.filter(
    (e) =>
      !combinators.some(
        (c) => e.instancePath.startsWith(c.instancePath) && e.schemaPath.startsWith(`${c.schemaPath}/`),
      ),
  );
  const seen = new Set<string>();
  const out: SchemaIssue[] = [];
  for (const e of kept) {
    const raw = toIssue(name, e);
    const issue: SchemaIssue = { ...raw, broken: raw.broken ?? raw.pointer };
    const key = `${issue.code}|${issue.pointer}|${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(issue);
  }
  return out;
}
