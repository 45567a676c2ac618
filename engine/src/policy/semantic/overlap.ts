// Two policies that can select the same pod with different actions make the outcome depend on
// evaluation order: worth a warning that names both files. "Can select" is decided statically
// from namespaces and selectors, conservatively (only a clear contradiction rules it out).
import type { HealthPolicy } from '../../core/api/index.js';
import { selectorsCanAllMatch } from './selectors.js';

export function mayOverlap(a: HealthPolicy, b: HealthPolicy): boolean {
  const ma = a.spec.match;
  const mb = b.spec.match;
  if (ma.namespaces?.length && mb.namespaces?.length && !ma.namespaces.some((n) => mb.namespaces!.includes(n))) return false;
  if (!selectorsCanAllMatch([ma.namespaceSelector, mb.namespaceSelector])) return false;
  return selectorsCanAllMatch([ma.selector, mb.selector]);
}

/**
 * Index pairs [i, j] (i < j) of policies that may select the same pods with different actions.
 * `defaultMode` is the repository's (bulkhead.yaml) for policies that leave mode out.
 */
export function conflictingPairs(policies: readonly HealthPolicy[], defaultMode: 'Enforce' | 'DryRun' = 'Enforce'): [number, number][] {
  const actionOf = (p: HealthPolicy): string => `${p.spec.action.type}/${p.spec.action.mode ?? defaultMode}`;
  const out: [number, number][] = [];
  for (let i = 0; i < policies.length; i++) {
    for (let j = i + 1; j < policies.length; j++) {
      if (actionOf(policies[i]!) !== actionOf(policies[j]!) && mayOverlap(policies[i]!, policies[j]!)) out.push([i, j]);
    }
  }
  return out;
}
