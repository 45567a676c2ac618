// `file:line:col  CODE  message`, then the hint indented: the format compilers use, so
// terminals and editors make the location clickable.
import type { Diagnostic } from '../../policy/index.js';
import { counts, type ValidationReport } from './report.js';

export function formatLocation(d: Diagnostic): string {
  return d.line > 0 ? `${d.file}:${d.line}:${d.column}` : d.file;
}

export function formatReportHuman(r: ValidationReport): string {
  const lines: string[] = [];
  for (const d of r.diagnostics) {
    lines.push(`${formatLocation(d)}  ${d.code}  ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`);
    if (d.hint) lines.push(`    hint: ${d.hint}`);
  }
  const { errors, warnings } = counts(r);
  const summary = `${r.policies} ${r.policies === 1 ? 'policy' : 'policies'}, ${errors} ${errors === 1 ? 'error' : 'errors'}, ${warnings} ${warnings === 1 ? 'warning' : 'warnings'}`;
  lines.push(r.valid ? `✔ ${r.root}: valid (${summary})` : `✖ ${r.root}: invalid (${summary})`);
  return `${lines.join('\n')}\n`;
}
