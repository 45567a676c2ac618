import type { PlannedAction } from '../analytics/index.js';
import { workloadKey, type WorkloadFacts } from './budget.js';

/**
 * Budget claims (pure; ADR 1501). A decision adds a claim per disruptive action it is about
 * to take to one ledger in the API server, written with an update conditional on the
 * resourceVersion it read: two decisions in the same instant cannot both see the budget
 * free. A claim counts until its pod's Quarantine exists (then the Quarantine counts, once)
 * or until it expires.
 */
export interface BudgetClaim {
  /** The pod the action is about. */
  uid: string;
  namespace: string;
  /** workloadKey: the owner's uid, or the pod's for a bare pod. */
  workload: string;
  /** Epoch ms of the claim. */
  at: number;
  /** The replica that claimed (for the reader of the ledger). */
  by: string;
}

export const LEDGER_DEFAULTS = {
  name: 'bulkhead-budget',
  /** A verdict takes seconds; by then its Quarantines exist and count by themselves. */
  ttlMs: 5 * 60_000,
  /** ≈ 125 bytes each: the ConfigMap stays far below the apiserver's 1 MiB object limit. */
  maxClaims: 2_000,
  /** Conflicting updates before the decision gives up and alerts instead. */
  maxAttempts: 10,
} as const;

/** The ledger's claims, unexpired; entries that are not claims are dropped. */
export function liveClaims(
  raw: string | undefined,
  nowMs: number,
  ttlMs: number = LEDGER_DEFAULTS.ttlMs,
): BudgetClaim[] {
  if (!raw) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.filter(
    (c): c is BudgetClaim =>
      typeof c === 'object' &&
      c !== null &&
      typeof (c as BudgetClaim).uid === 'string' &&
      typeof (c as BudgetClaim).namespace === 'string' &&
      typeof (c as BudgetClaim).workload === 'string' &&
      typeof (c as BudgetClaim).at === 'number' &&
      nowMs - (c as BudgetClaim).at < ttlMs &&
      (c as BudgetClaim).at <= nowMs + ttlMs,
  );
}

export interface ClaimableFacts {
  /** Per workload: pods Bulkhead holds, and the owner's own availability deficit. */
  parts: ReadonlyMap<string, { replicas: number; held: number; deficit: number }>;
  namespaceActionsLastHour: ReadonlyMap<string, number>;
  /** Pods that have a Quarantine (any phase): their claims are already counted by it, or over. */
  quarantined: ReadonlySet<string>;
}

/**
 * The budget facts with the claims of other decisions added: a claim whose pod has no
 * Quarantine yet is one more pod held in its workload and one more action in its namespace
 * this hour. Claims for the pods of this decision itself (a retry) are not counted twice.
 */
export function factsWithClaims(
  facts: ClaimableFacts,
  claims: readonly BudgetClaim[],
  deciding: ReadonlySet<string> = new Set(),
): { workloads: Map<string, WorkloadFacts>; namespaceActionsLastHour: Map<string, number> } {
  const extraHeld = new Map<string, number>();
  const nsActions = new Map(facts.namespaceActionsLastHour);
  const seen = new Set<string>();
  for (const c of claims) {
    if (facts.quarantined.has(c.uid) || deciding.has(c.uid) || seen.has(c.uid)) continue;
    seen.add(c.uid);
    extraHeld.set(c.workload, (extraHeld.get(c.workload) ?? 0) + 1);
    if (nsActions.has(c.namespace)) nsActions.set(c.namespace, nsActions.get(c.namespace)! + 1);
  }
  const workloads = new Map<string, WorkloadFacts>();
  for (const [key, p] of facts.parts)
    workloads.set(key, { replicas: p.replicas, unavailable: Math.max(p.held + (extraHeld.get(key) ?? 0), p.deficit) });
  return { workloads, namespaceActionsLastHour: nsActions };
}

/** The ledger after a decision: its claims replace any older claim for the same pods. */
export function mergeClaims(live: readonly BudgetClaim[], added: readonly BudgetClaim[]): BudgetClaim[] {
  const mine = new Set(added.map((c) => c.uid));
  return [...live.filter((c) => !mine.has(c.uid)), ...added];
}

/** The claims a decision adds: one per disruptive action it allowed. */
export function claimsFor(allowed: readonly PlannedAction[], nowMs: number, by: string): BudgetClaim[] {
  return allowed
    .filter((a) => a.action !== 'Alert')
    .map((a) => ({ uid: a.pod.uid, namespace: a.pod.namespace, workload: workloadKey(a), at: nowMs, by }));
}
