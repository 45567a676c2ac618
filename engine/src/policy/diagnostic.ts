// What the loader reports. A diagnostic always names a file, line and column so an author can
// jump to it (editor, `bulkhead validate`, GitHub code scanning via SARIF). Line and column are
// 1-based; 0 means "the repository as a whole" (such as a missing policies/ folder).

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  hint?: string;
  /** Repository-relative path with forward slashes. */
  file: string;
  line: number;
  column: number;
}

/**
 * Every code the loader emits, with the one-line rule description SARIF shows. Codes are
 * stable identifiers: tools and docs refer to them, so rename never, add freely.
 */
export const CODES = {
  BH_READ_ERROR: 'A file could not be read',
  BH_TOO_MANY_FILES: 'The repository has more policy files than the loader accepts',
  BH_FILE_TOO_LARGE: 'A policy file exceeds the size limit',
  BH_REPO_TOO_LARGE: 'The policy files together exceed the size limit',
  BH_ENCODING: 'A policy file is not UTF-8 text',
  BH_SYMLINK_ESCAPE: 'A symbolic link points outside the repository',
  BH_SYMLINK_BROKEN: 'A symbolic link points nowhere',
  BH_EMPTY_FILE: 'A policy file holds no document',
  BH_NO_POLICIES: 'The repository has no policies/ folder or no policy in it',
  BH_YAML_SYNTAX: 'The file is not valid YAML',
  BH_YAML_DUPLICATE_KEY: 'A mapping has the same key twice',
  BH_YAML_DEPTH: 'The document nests deeper than the limit',
  BH_YAML_ALIAS_EXPANSION: 'YAML aliases expand beyond the limit (billion laughs)',
  BH_YAML_TAG: 'The document uses a YAML tag the safe schema does not allow',
  BH_TOO_MANY_DOCUMENTS: 'A file holds more documents than the limit',
  BH_NOT_A_MAPPING: 'A document is not a mapping',
  BH_UNKNOWN_KIND: 'A document is not a HealthPolicy',
  BH_UNKNOWN_API_VERSION: 'A document has an apiVersion Bulkhead does not serve',
  BH_SECRET_IN_REPO: 'A Secret is committed to the policy repository',
  BH_UNKNOWN_FIELD: 'A field is not part of the schema',
  BH_MISSING_FIELD: 'A required field is missing',
  BH_WRONG_TYPE: 'A field has the wrong type',
  BH_INVALID_VALUE: 'A field has a value outside the allowed set or format',
  BH_OUT_OF_RANGE: 'A number, length or count is outside its range',
  BH_EXCLUSIVE_FIELDS: 'Exactly one of several fields must be set',
  BH_SCHEMA: 'The document does not match the schema',
  BH_DURATION: 'A duration is malformed or out of range',
  BH_LABEL_KEY: 'A label key is not a valid Kubernetes label key',
  BH_LABEL_VALUE: 'A label value is not a valid Kubernetes label value',
  BH_SELECTOR: 'A label selector requirement is inconsistent',
  BH_PORT: 'A probe port is out of range or not a valid port name',
  BH_DETECT_RULE: 'A detection rule lacks a field its type needs',
  BH_BUDGET: 'A budget value is malformed',
  BH_SIMILAR_EMPTY: 'similar names neither sharing nor groupBy',
  BH_FORWARD_URL: 'A forward endpoint is not a plain https URL',
  BH_SECRET_IN_HEADER: 'A forward header looks like a credential',
  BH_PROTECTED_NAMESPACE: 'A policy names a namespace Bulkhead never touches',
  BH_STATUS_IGNORED: 'A policy file sets status, which the engine owns',
  BH_DUPLICATE_NAME: 'Two policies have the same name',
  BH_OVERLAP: 'Two policies may select the same pods with different actions',
} as const;

export type DiagnosticCode = keyof typeof CODES;

export const isError = (d: Diagnostic): boolean => d.severity === 'error';

/** Stable order for output: by file, position, then code. */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  return [...ds].sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.code.localeCompare(b.code),
  );
}
