// Checks across every policy of the repository: names are unique (the CRs are cluster-scoped,
// so the second would overwrite the first), and overlapping selections are flagged.
import type { Diagnostic } from './diagnostic.js';
import type { FilePolicy } from './policy-file.js';
import { conflictingPairs } from './semantic/overlap.js';

const where = (p: FilePolicy): string => `${p.file}:${p.nameAt.line}`;

export function crossFileChecks(policies: readonly FilePolicy[], defaultMode?: 'Enforce' | 'DryRun'): Diagnostic[] {
  const out: Diagnostic[] = [];
  const byName = new Map<string, FilePolicy>();
  const unique: FilePolicy[] = [];
  for (const p of policies) {
    const first = byName.get(p.policy.metadata.name);
    if (first) {
      out.push({
        severity: 'error',
        code: 'BH_DUPLICATE_NAME',
        message: `policy name "${p.policy.metadata.name}" is already used at ${where(first)}`,
        hint: 'policy names are cluster-wide; rename one of them',
        file: p.file,
        ...p.nameAt,
      });
      continue;
    }
    byName.set(p.policy.metadata.name, p);
    unique.push(p);
  }
  for (const [i, j] of conflictingPairs(
    unique.map((p) => p.policy),
    defaultMode,
  )) {
    const a = unique[i]!;
    const b = unique[j]!;
    out.push({
      severity: 'warning',
      code: 'BH_OVERLAP',
      message: `policies "${a.policy.metadata.name}" (${where(a)}, ${a.policy.spec.action.type}) and "${b.policy.metadata.name}" (${where(b)}, ${b.policy.spec.action.type}) may select the same pods with different actions`,
      hint: 'narrow one selector (namespaces, matchLabels) so each pod has one policy',
      file: b.file,
      ...b.nameAt,
    });
  }
  return out;
}
