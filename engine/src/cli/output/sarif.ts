// SARIF 2.1.0 as GitHub code scanning accepts it: one rule per error code (rule id = code),
// results with a physical location relative to the repository root (%SRCROOT%).
import { CODES, type DiagnosticCode } from '../../policy/index.js';
import type { ValidationReport } from './report.js';

const SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const INFO_URI = 'https://bulkhead.dev/docs/validate';

export function toSarif(r: ValidationReport, toolVersion: string): Record<string, unknown> {
  const used = [...new Set(r.diagnostics.map((d) => d.code))].sort() as DiagnosticCode[];
  // A code's default level is the most severe level it was reported with in this run.
  const levelOf = (code: DiagnosticCode): 'error' | 'warning' =>
    r.diagnostics.some((d) => d.code === code && d.severity === 'error') ? 'error' : 'warning';
  const ruleIndex = new Map(used.map((c, i) => [c, i]));
  return {
    $schema: SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'bulkhead',
            informationUri: INFO_URI,
            version: toolVersion,
            rules: used.map((code) => ({
              id: code,
              name: code,
              shortDescription: { text: CODES[code] },
              helpUri: `${INFO_URI}#${code.toLowerCase()}`,
              defaultConfiguration: { level: levelOf(code) },
            })),
          },
        },
        results: r.diagnostics.map((d) => ({
          ruleId: d.code,
          ruleIndex: ruleIndex.get(d.code),
          level: d.severity,
          message: { text: d.hint ? `${d.message} (hint: ${d.hint})` : d.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: d.file, uriBaseId: '%SRCROOT%' },
                // Repository-level findings have no line; code scanning then pins them to the file.
                ...(d.line > 0 ? { region: { startLine: d.line, startColumn: d.column } } : {}),
              },
            },
          ],
        })),
      },
    ],
  };
}

export function formatReportSarif(r: ValidationReport, toolVersion: string): string {
  return `${JSON.stringify(toSarif(r, toolVersion), null, 2)}\n`;
}
