// What every output format renders: the diagnostics of one `bulkhead validate` run, with
// paths relative to the current directory so editors and code scanning can open them.
import { isError, type Diagnostic } from '../../policy/index.js';

export interface ValidationReport {
  /** The folder that was validated, as given. */
  root: string;
  policies: number;
  diagnostics: Diagnostic[];
  valid: boolean;
}

export const counts = (r: ValidationReport): { errors: number; warnings: number } => ({
  errors: r.diagnostics.filter(isError).length,
  warnings: r.diagnostics.filter((d) => !isError(d)).length,
});
