import { counts, type ValidationReport } from './report.js';

/** Stable machine-readable output: field names are part of the CLI's contract. */
export function formatReportJson(r: ValidationReport): string {
  return `${JSON.stringify({ valid: r.valid, root: r.root, policies: r.policies, ...counts(r), diagnostics: r.diagnostics }, null, 2)}\n`;
}
