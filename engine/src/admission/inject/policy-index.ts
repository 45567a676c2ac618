import type { InjectablePolicy } from './policy.js';
import { compileSelector, isEmptySelector, type CompiledSelector, type Labels } from './selector.js';

/**
 * Which policies select a pod, answered without looking at policies of other namespaces.
 * Policies that name namespaces are indexed by name; policies that select namespaces by
 * label are resolved once per (namespace, labels) and cached, so the per-pod cost is the
 * pod-selector checks of that namespace's candidates only.
 */
export interface IndexedPolicy {
  policy: InjectablePolicy;
  name: string;
  matchesPod: CompiledSelector;
  /** Higher wins when several policies match one pod: pod selector > named namespaces > namespace selector > everything. */
  specificity: number;
}

export interface PolicyMatch {
  /** Most specific first, then by name: [0] is the policy that injects. */
  policies: IndexedPolicy[];
  /** Why nothing matched (for logs and the admission response). */
  reason?: string;
}

export interface PolicyIndexOptions {
  /** Never matched, whatever a policy says (kube-system, kube-public, the engine's namespace). */
  excludedNamespaces: readonly string[];
  /** Bound of the per-namespace candidate cache. */
  maxCachedNamespaces?: number;
}

interface NamespaceScoped extends IndexedPolicy {
  matchesNamespace: CompiledSelector;
}

/** A policy's match compiled once: the named namespaces, the namespace selector, the pod selector. */
export interface CompiledMatch {
  namespaces: readonly string[];
  matchesNamespace: CompiledSelector;
  matchesPod: CompiledSelector;
}

export function compileMatch(match: InjectablePolicy['spec']['match']): CompiledMatch {
  return {
    namespaces: match?.namespaces ?? [],
    matchesNamespace: compileSelector(match?.namespaceSelector),
    matchesPod: compileSelector(match?.selector),
  };
}

/**
 * Whether a compiled match selects a pod, ignoring excluded namespaces: the same reading the
 * index makes in two phases (namespace candidates, then pod labels), for one known policy.
 */
export function matchSelects(m: CompiledMatch, namespace: string, namespaceLabels: Labels, podLabels: Labels): boolean {
  return (
    (m.namespaces.length === 0 || m.namespaces.includes(namespace)) &&
    m.matchesNamespace(namespaceLabels) &&
    m.matchesPod(podLabels)
  );
}

export class PolicyIndex {
  private readonly byName = new Map<string, NamespaceScoped[]>();
  private readonly anyNamespace: NamespaceScoped[] = [];
  private readonly excluded: ReadonlySet<string>;
  private readonly cache = new Map<string, { labelsKey: string; candidates: NamespaceScoped[] }>();
  private readonly maxCached: number;
  readonly size: number;

  constructor(policies: readonly InjectablePolicy[], opts: PolicyIndexOptions) {
    this.excluded = new Set(opts.excludedNamespaces);
    this.maxCached = opts.maxCachedNamespaces ?? 10_000;
    this.size = policies.length;
    for (const policy of policies) {
      const match = policy.spec.match ?? {};
      const { namespaces, matchesNamespace, matchesPod } = compileMatch(match);
      const entry: NamespaceScoped = {
        policy,
        name: policy.metadata.name,
        matchesPod,
        matchesNamespace,
        specificity: specificityOf(policy),
      };
      if (namespaces.length === 0) this.anyNamespace.push(entry);
      for (const ns of new Set(namespaces)) {
        const list = this.byName.get(ns) ?? [];
        list.push(entry);
        this.byName.set(ns, list);
      }
    }
  }

  isExcluded(namespace: string): boolean {
    return this.excluded.has(namespace);
  }

  /** Policies whose namespace part selects this namespace (cached per namespace labels). */
  candidates(namespace: string, namespaceLabels: Labels): readonly IndexedPolicy[] {
    if (this.excluded.has(namespace)) return [];
    const labelsKey = labelsFingerprint(namespaceLabels);
    const hit = this.cache.get(namespace);
    if (hit && hit.labelsKey === labelsKey) return hit.candidates;
    const candidates = [...(this.byName.get(namespace) ?? []), ...this.anyNamespace]
      .filter((p) => p.matchesNamespace(namespaceLabels))
      .sort(byPrecedence);
    if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(namespace, { labelsKey, candidates });
    return candidates;
  }

  match(namespace: string, namespaceLabels: Labels, podLabels: Labels): PolicyMatch {
    if (this.excluded.has(namespace)) return { policies: [], reason: `namespace ${namespace} is always excluded` };
    const candidates = this.candidates(namespace, namespaceLabels);
    if (candidates.length === 0) return { policies: [], reason: `no policy selects namespace ${namespace}` };
    const policies = candidates.filter((p) => p.matchesPod(podLabels));
    if (policies.length === 0)
      return {
        policies,
        reason: `${candidates.length} policies select namespace ${namespace}, none selects the pod's labels`,
      };
    return { policies };
  }
}

function specificityOf(policy: InjectablePolicy): number {
  const match = policy.spec.match ?? {};
  return (
    (isEmptySelector(match.selector) ? 0 : 4) +
    ((match.namespaces ?? []).length > 0 ? 2 : 0) +
    (isEmptySelector(match.namespaceSelector) ? 0 : 1)
  );
}

/**
 * Every policy in the order the injector prefers them when several match a pod. Static (it
 * depends on the policies only), which is what lets the generated admission policy take the
 * same choice by filtering a list in this order.
 */
export function precedenceOrder(policies: readonly InjectablePolicy[]): { policy: InjectablePolicy; name: string }[] {
  return policies
    .map((policy) => ({ policy, name: policy.metadata.name, specificity: specificityOf(policy) }))
    .sort(byPrecedence)
    .map(({ policy, name }) => ({ policy, name }));
}

function byPrecedence(a: { name: string; specificity: number }, b: { name: string; specificity: number }): number {
  return b.specificity - a.specificity || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function labelsFingerprint(labels: Labels): string {
  if (!labels) return '';
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join('\n');
}
