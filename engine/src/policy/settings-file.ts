// bulkhead.yaml: optional repository settings, validated like a policy and located the same way.
import type { RepoSettings } from '../core/api/index.js';
import type { Diagnostic } from './diagnostic.js';
import type { LoaderLimits } from './limits.js';
import { parseFile, schemaCheck } from './policy-file.js';

export const SETTINGS_FILE = 'bulkhead.yaml';

export function analyzeSettingsFile(
  bytes: Uint8Array,
  limits: LoaderLimits,
): { settings?: RepoSettings; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const parsed = parseFile(SETTINGS_FILE, bytes, limits, diagnostics);
  if (!parsed) return { diagnostics };
  const [doc, extra] = parsed.documents;
  if (extra) {
    const pos = parsed.lines.position(extra.offset);
    diagnostics.push({
      severity: 'error',
      code: 'BH_TOO_MANY_DOCUMENTS',
      message: `${SETTINGS_FILE} holds one document`,
      file: SETTINGS_FILE,
      ...pos,
    });
  }
  if (!doc) return { diagnostics };
  if (schemaCheck('repo-settings', SETTINGS_FILE, parsed, doc, diagnostics).length > 0) return { diagnostics };
  return { settings: doc.value as RepoSettings, diagnostics };
}
