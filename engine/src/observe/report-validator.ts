import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { schemaDocuments, schemaIds } from '../core/api/generated/schemas.js';
import type { HealthReport } from './report.js';

export interface ValidationProblem {
  /** JSON pointer into the request body, e.g. /samples/3/probe/latencyMs */
  pointer: string;
  message: string;
}

export type Validate = (
  body: unknown,
) => { ok: true; report: HealthReport } | { ok: false; problems: ValidationProblem[] };

const pointerOf = (e: ErrorObject): string => {
  // Name the missing or unexpected property itself, not its parent object.
  if (e.keyword === 'required')
    return `${e.instancePath}/${String((e.params as { missingProperty: string }).missingProperty)}`;
  if (e.keyword === 'additionalProperties')
    return `${e.instancePath}/${String((e.params as { additionalProperty: string }).additionalProperty)}`;
  return e.instancePath || '/';
};

const reportSchema = (): Record<string, unknown> => {
  const doc = schemaDocuments.find((d) => d.$id === schemaIds.healthreport);
  if (!doc) throw new Error('healthreport schema missing from the generated schemas: run `npm run gen`');
  return doc;
};

/**
 * Compiles the report schema once (ajv, JSON Schema 2020-12), from the generated copy of
 * schemas/healthreport.schema.json (so a built engine needs no schemas/ folder).
 */
export function createReportValidator(schema: Record<string, unknown> = reportSchema()): Validate {
  const ajv = new Ajv2020({ allErrors: false, strict: true });
  addFormats.default(ajv, ['date-time']);
  const check = ajv.compile<HealthReport>(schema);
  return (body) => {
    if (check(body)) {
      // Sequence numbers must increase within a batch: the engine relies on it to spot gaps.
      const s = body.samples;
      for (let i = 1; i < s.length; i++) {
        if (s[i]!.seq <= s[i - 1]!.seq)
          return {
            ok: false,
            problems: [{ pointer: `/samples/${i}/seq`, message: 'must be greater than the previous sample seq' }],
          };
      }
      return { ok: true, report: body };
    }
    return {
      ok: false,
      problems: (check.errors ?? [])
        .slice(0, 20)
        .map((e) => ({ pointer: pointerOf(e), message: e.message ?? e.keyword })),
    };
  };
}
