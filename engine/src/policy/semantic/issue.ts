import type { DiagnosticCode, Severity } from '../diagnostic.js';

/** A finding about one document, located by JSON pointer; the loader turns it into file:line:col. */
export interface SemanticIssue {
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  hint?: string;
  pointer: string;
  at: 'key' | 'value';
}
