// Label selectors: consistency checks, and whether two selectors can match the same labels.
import type { LabelSelector } from '../../core/api/index.js';
import { escapePointer } from '../yaml-documents.js';
import type { SemanticIssue } from './issue.js';
import { labelKeyProblem, labelValueProblem } from './labels.js';

export function checkSelector(sel: LabelSelector | undefined, pointer: string): SemanticIssue[] {
  if (!sel) return [];
  const out: SemanticIssue[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) {
    const at = `${pointer}/matchLabels/${escapePointer(key)}`;
    const kp = labelKeyProblem(key);
    if (kp)
      out.push({
        severity: 'error',
        code: 'BH_LABEL_KEY',
        message: `label key "${key}": ${kp}`,
        pointer: at,
        at: 'key',
      });
    const vp = value === undefined ? null : labelValueProblem(value);
    if (vp)
      out.push({
        severity: 'error',
        code: 'BH_LABEL_VALUE',
        message: `label value "${value}" of "${key}": ${vp}`,
        pointer: at,
        at: 'value',
      });
  }
  (sel.matchExpressions ?? []).forEach((req, i) => {
    const at = `${pointer}/matchExpressions/${i}`;
    const kp = labelKeyProblem(req.key);
    if (kp)
      out.push({
        severity: 'error',
        code: 'BH_LABEL_KEY',
        message: `label key "${req.key}": ${kp}`,
        pointer: `${at}/key`,
        at: 'value',
      });
    const values = req.values ?? [];
    if ((req.operator === 'In' || req.operator === 'NotIn') && values.length === 0) {
      out.push({
        severity: 'error',
        code: 'BH_SELECTOR',
        message: `operator ${req.operator} needs at least one value`,
        hint: 'add values, or use Exists / DoesNotExist',
        pointer: `${at}/operator`,
        at: 'value',
      });
    }
    if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && values.length > 0) {
      out.push({
        severity: 'error',
        code: 'BH_SELECTOR',
        message: `operator ${req.operator} takes no values`,
        hint: 'remove values, or use In / NotIn',
        pointer: `${at}/values`,
        at: 'key',
      });
    }
    values.forEach((v, j) => {
      const vp = labelValueProblem(v);
      if (vp)
        out.push({
          severity: 'error',
          code: 'BH_LABEL_VALUE',
          message: `label value "${v}": ${vp}`,
          pointer: `${at}/values/${j}`,
          at: 'value',
        });
    });
  });
  return out;
}

/** What a set of selectors requires of one label key. */
interface KeyConstraint {
  /** Allowed values (intersection of In / matchLabels), or null when unconstrained. */
  allowed: Set<string> | null;
  excluded: Set<string>;
  mustExist: boolean;
  mustNotExist: boolean;
}

/**
 * Whether some set of labels satisfies every selector given: the requirements of all of them
 * are ANDed per key, and the result is unsatisfiable only on a clear contradiction (a key
 * both required and forbidden, or no value left). Conservative: "maybe" counts as overlap.
 */
export function selectorsCanAllMatch(selectors: readonly (LabelSelector | undefined)[]): boolean {
  const keys = new Map<string, KeyConstraint>();
  const get = (k: string): KeyConstraint => {
    let c = keys.get(k);
    if (!c) keys.set(k, (c = { allowed: null, excluded: new Set(), mustExist: false, mustNotExist: false }));
    return c;
  };
  const allow = (c: KeyConstraint, values: string[]): void => {
    c.mustExist = true;
    c.allowed = c.allowed === null ? new Set(values) : new Set(values.filter((v) => c.allowed!.has(v)));
  };
  for (const sel of selectors) {
    if (!sel) continue;
    for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (v !== undefined) allow(get(k), [v]);
    for (const req of sel.matchExpressions ?? []) {
      const c = get(req.key);
      if (req.operator === 'In') allow(c, req.values ?? []);
      else if (req.operator === 'NotIn') for (const v of req.values ?? []) c.excluded.add(v);
      else if (req.operator === 'Exists') c.mustExist = true;
      else c.mustNotExist = true;
    }
  }
  for (const c of keys.values()) {
    if (c.mustExist && c.mustNotExist) return false;
    if (c.allowed !== null && [...c.allowed].every((v) => c.excluded.has(v))) return false;
  }
  return true;
}
