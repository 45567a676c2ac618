// One policy file, bytes in, policies and diagnostics out. Pure (no I/O), so the property
// test drives exactly what `loadPolicyDir` runs for each file.
import { API_VERSION, GROUP, KIND } from '../core/api/index.js';
import type { HealthPolicy } from '../core/api/index.js';
import type { Diagnostic, DiagnosticCode, Severity } from './diagnostic.js';
import { decodePolicyText } from './encoding.js';
import type { LoaderLimits } from './limits.js';
import { validateAgainstSchema, type SchemaName } from './schema-validator.js';
import { checkPolicy } from './semantic/policy-checks.js';
import { locate, parseYamlDocuments, type ParsedDocument, type ParsedFile } from './yaml-documents.js';

export interface FilePolicy {
  policy: HealthPolicy;
  file: string;
  /** Line where the document starts. */
  line: number;
  /** Where metadata.name is, for diagnostics that span files. */
  nameAt: { line: number; column: number };
}

export interface FileAnalysis {
  policies: FilePolicy[];
  diagnostics: Diagnostic[];
}

type Located = {
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  hint?: string | undefined;
  pointer: string;
  at: 'key' | 'value';
};

export function diagnosticAt(file: string, parsed: ParsedFile, doc: ParsedDocument, issue: Located): Diagnostic {
  const pos = parsed.lines.position(locate(doc, issue.pointer, issue.at));
  return {
    severity: issue.severity,
    code: issue.code,
    message: issue.message,
    ...(issue.hint ? { hint: issue.hint } : {}),
    file,
    ...pos,
  };
}

/** Decodes and parses, reporting encoding and YAML problems; null when nothing is usable. */
export function parseFile(
  file: string,
  bytes: Uint8Array,
  limits: LoaderLimits,
  diagnostics: Diagnostic[],
): ParsedFile | null {
  if (bytes.length > limits.maxFileBytes) {
    diagnostics.push({
      severity: 'error',
      code: 'BH_FILE_TOO_LARGE',
      message: `file is ${bytes.length} bytes; the limit is ${limits.maxFileBytes}`,
      hint: 'split it into several files',
      file,
      line: 1,
      column: 1,
    });
    return null;
  }
  const decoded = decodePolicyText(bytes);
  if (!decoded.ok) {
    diagnostics.push({
      severity: 'error',
      code: 'BH_ENCODING',
      message: decoded.message,
      hint: decoded.hint,
      file,
      line: decoded.line,
      column: decoded.column,
    });
    return null;
  }
  const parsed = parseYamlDocuments(decoded.text, limits);
  for (const p of parsed.problems)
    diagnostics.push({
      severity: 'error',
      code: p.code,
      message: p.message,
      ...(p.hint ? { hint: p.hint } : {}),
      file,
      line: p.line,
      column: p.column,
    });
  return parsed;
}

/** Validates one mapping against a schema; returns the pointers of the parts found broken. */
export function schemaCheck(
  name: SchemaName,
  file: string,
  parsed: ParsedFile,
  doc: ParsedDocument,
  diagnostics: Diagnostic[],
): string[] {
  const issues = validateAgainstSchema(name, doc.value);
  for (const i of issues) diagnostics.push(diagnosticAt(file, parsed, doc, { ...i, severity: 'error' }));
  return issues.map((i) => i.broken);
}

/** Whether the document claims to be a HealthPolicy; reports what it is otherwise. */
function isHealthPolicy(file: string, parsed: ParsedFile, doc: ParsedDocument, diagnostics: Diagnostic[]): boolean {
  const v = doc.value as Record<string, unknown>;
  const kind = v.kind;
  const apiVersion = v.apiVersion;
  const add = (code: DiagnosticCode, message: string, hint: string, pointer: string): void => {
    diagnostics.push(diagnosticAt(file, parsed, doc, { severity: 'error', code, message, hint, pointer, at: 'value' }));
  };
  if (kind === 'Secret' || (kind === 'List' && JSON.stringify(v.items ?? '').includes('"Secret"'))) {
    add(
      'BH_SECRET_IN_REPO',
      'a Secret does not belong in the policy repository',
      'remove it (and rotate what it held: it is in git history now); policies reference Secrets with secretRef',
      '/kind',
    );
    return false;
  }
  if (
    kind === KIND.HealthPolicy &&
    typeof apiVersion === 'string' &&
    apiVersion.startsWith(`${GROUP}/`) &&
    apiVersion !== API_VERSION
  ) {
    add(
      'BH_UNKNOWN_API_VERSION',
      `apiVersion ${apiVersion} is not served; use ${API_VERSION}`,
      `this Bulkhead serves ${API_VERSION}`,
      '/apiVersion',
    );
    return false;
  }
  if (kind !== KIND.HealthPolicy || apiVersion !== API_VERSION) {
    if (kind === undefined && apiVersion === undefined) return true; // let the schema name both missing fields
    const what =
      typeof kind === 'string' ? `${String(apiVersion ?? '(no apiVersion)')} ${kind}` : 'a document without a kind';
    const hint =
      kind === KIND.Quarantine
        ? 'quarantine records live under records/ and are written by the engine'
        : `files under policies/ hold ${API_VERSION} HealthPolicy documents`;
    add('BH_UNKNOWN_KIND', `${what} is not a HealthPolicy`, hint, kind === undefined ? '' : '/kind');
    return false;
  }
  return true;
}

export function analyzePolicyFile(file: string, bytes: Uint8Array, limits: LoaderLimits): FileAnalysis {
  const diagnostics: Diagnostic[] = [];
  const policies: FilePolicy[] = [];
  const parsed = parseFile(file, bytes, limits, diagnostics);
  if (!parsed) return { policies, diagnostics };
  if (parsed.documents.length === 0 && parsed.problems.length === 0) {
    diagnostics.push({
      severity: 'warning',
      code: 'BH_EMPTY_FILE',
      message: 'file holds no YAML document',
      hint: 'delete it, or add a HealthPolicy',
      file,
      line: 1,
      column: 1,
    });
  }
  for (const doc of parsed.documents) {
    if (doc.value === null || typeof doc.value !== 'object' || Array.isArray(doc.value)) {
      const pos = parsed.lines.position(doc.offset);
      diagnostics.push({
        severity: 'error',
        code: 'BH_NOT_A_MAPPING',
        message: `document ${doc.index + 1} is ${Array.isArray(doc.value) ? 'a list' : `a ${typeof doc.value}`}, not a mapping`,
        hint: 'a policy starts with apiVersion: and kind:',
        file,
        ...pos,
      });
      continue;
    }
    if (!isHealthPolicy(file, parsed, doc, diagnostics)) continue;
    const broken = schemaCheck('healthpolicy', file, parsed, doc, diagnostics);
    // Parts the schema accepted are still checked, so one run shows every problem.
    const policy = doc.value as HealthPolicy;
    for (const issue of checkPolicy(policy, broken)) diagnostics.push(diagnosticAt(file, parsed, doc, issue));
    if (broken.length > 0) continue;
    policies.push({
      policy,
      file,
      line: parsed.lines.position(doc.offset).line,
      nameAt: parsed.lines.position(locate(doc, '/metadata/name')),
    });
  }
  return { policies, diagnostics };
}
