// Two policies that can select the same pod with different actions make the outcome depend on
// evaluation order: worth a warning that names both files. "Can select" is decided statically
// from namespaces and selectors, conservatively (only a clear contradiction rules it out).
import type { HealthPolicy } from '../../core/api/index.js';
import { selectorsCanAllMatch } from './selectors.js';

export function mayOverlap(a: HealthPolicy, b: HealthPolicy): boolean {
  const ma = a.spec.match;
  const mb = b.spec.match;
  if (ma.namespaces?.length && mb.namespaces?.length && !ma.namespaces.some((n) => mb.namespaces!.includes(n)))
    return false;
  if (!selectorsCanAllMatch([ma.namespaceSelector, mb.namespaceSelector])) return false;
  return selectorsCanAllMatch([ma.selector, mb.selector]);
}

/**
 * Index pairs [i, j] (i < j) of policies that may select the same pods with different actions.
 * `defaultMode` is the repository's (bulkhead.yaml) for policies that leave mode out.
 * Policies with namespace lists are bucketed by namespace, so a fleet of per-team policies
 * costs pairs within a namespace, not all n² pairs.
 */
export function conflictingPairs(
  policies: readonly HealthPolicy[],
  defaultMode: 'Enforce' | 'DryRun' = 'Enforce',
): [number, number][] {
  const action = policies.map((p) => `${p.spec.action.type}/${p.spec.action.mode ?? defaultMode}`);
  const anyNamespace: number[] = [];
  const byNamespace = new Map<string, number[]>();
  policies.forEach((p, i) => {
    const list = p.spec.match.namespaces;
    if (!list?.length) anyNamespace.push(i);
    else for (const ns of new Set(list)) byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), i]);
  });
  const seen = new Set<number>();
  const out: [number, number][] = [];
  const consider = (a: number, b: number): void => {
    const [i, j] = a < b ? [a, b] : [b, a];
    if (i === j || action[i] === action[j] || seen.has(i * policies.length + j)) return;
    seen.add(i * policies.length + j);
    if (mayOverlap(policies[i]!, policies[j]!)) out.push([i, j]);
  };
  for (const bucket of byNamespace.values())
    for (let x = 0; x < bucket.length; x++)
      for (let y = x + 1; y < bucket.length; y++) consider(bucket[x]!, bucket[y]!);
  for (const i of anyNamespace) for (let j = 0; j < policies.length; j++) consider(i, j);
  return out.sort(([a, b], [c, d]) => a - c || b - d);
}
