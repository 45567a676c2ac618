import type { Budget } from '../core/api/index.js';
import type { PlannedAction } from '../analytics/index.js';

/**
 * The blast-radius budget, pure. A disruptive action (Quarantine, Isolate, Restart) takes one
 * pod of its workload out of service, so it is allowed only while the workload stays within
 * `maxUnavailable` (counting pods already quarantined or unavailable) and the namespace within
 * its hourly cap; never in a protected namespace. Everything past the budget is downgraded to
 * Alert and the circuit breaker reports why. Alerts never consume budget.
 */
export const BUDGET_DEFAULTS = { maxUnavailable: 1, maxPerNamespacePerHour: 10 } as const;

export const ALWAYS_PROTECTED = ['kube-system', 'kube-public', 'kube-node-lease'] as const;

export interface WorkloadFacts {
  /** Desired replicas of the owner (1 for a bare pod). */
  replicas: number;
  /** Pods of the owner already out of service: quarantined, isolated, or not ready. */
  unavailable: number;
}

export interface BudgetInput {
  actions: readonly PlannedAction[];
  budget?: Budget;
  /** Keyed by owner uid (or pod uid for a bare pod). */
  workloads: ReadonlyMap<string, WorkloadFacts>;
  /** Disruptive actions already taken per namespace in the last hour. */
  namespaceActionsLastHour: ReadonlyMap<string, number>;
  protectedNamespaces: ReadonlySet<string>;
  /** The budget ledger could not take another claim (full, or too contended): nothing disruptive now. */
  ledgerFull?: boolean;
}

export interface BudgetDecision {
  allowed: PlannedAction[];
  downgraded: { action: PlannedAction; why: BudgetStop }[];
  /** True when anything was held back: the policy status says so. */
  exhausted: boolean;
}

export type BudgetStop =
  'ProtectedNamespace' | 'WorkloadBudgetExhausted' | 'NamespaceHourlyCapReached' | 'BudgetLedgerFull';

/** maxUnavailable as a pod count: an int, or a percentage of replicas rounded down. */
export function maxUnavailablePods(value: number | string | undefined, replicas: number): number {
  const v = value ?? BUDGET_DEFAULTS.maxUnavailable;
  if (typeof v === 'number') return Math.max(0, Math.floor(v));
  const m = /^(\d{1,3})%$/.exec(v);
  if (!m) throw new RangeError(`maxUnavailable must be an integer or a percentage, got "${v}"`);
  return Math.floor((replicas * Number(m[1])) / 100);
}

export const workloadKey = (a: PlannedAction): string => a.pod.owner?.uid ?? a.pod.uid;

export function applyBudget(input: BudgetInput): BudgetDecision {
  const allowed: PlannedAction[] = [];
  const downgraded: BudgetDecision['downgraded'] = [];
  const used = new Map<string, number>();
  const nsUsed = new Map(input.namespaceActionsLastHour);
  const cap = input.budget?.maxPerNamespacePerHour ?? BUDGET_DEFAULTS.maxPerNamespacePerHour;
  // Primary (failing) pods get the budget before their healthy siblings.
  const ordered = [...input.actions].sort((a, b) => (a.role === b.role ? 0 : a.role === 'primary' ? -1 : 1));
  for (const action of ordered) {
    if (action.action === 'Alert') {
      allowed.push(action);
      continue;
    }
    const ns = action.pod.namespace;
    if (input.protectedNamespaces.has(ns) || (ALWAYS_PROTECTED as readonly string[]).includes(ns)) {
      downgraded.push({ action, why: 'ProtectedNamespace' });
      continue;
    }
    if (input.ledgerFull) {
      downgraded.push({ action, why: 'BudgetLedgerFull' });
      continue;
    }
    if ((nsUsed.get(ns) ?? 0) >= cap) {
      downgraded.push({ action, why: 'NamespaceHourlyCapReached' });
      continue;
    }
    const key = workloadKey(action);
    const facts = input.workloads.get(key) ?? { replicas: 1, unavailable: 0 };
    const limit = maxUnavailablePods(input.budget?.maxUnavailable, facts.replicas);
    const wouldBe = facts.unavailable + (used.get(key) ?? 0) + 1;
    if (wouldBe > limit) {
      downgraded.push({ action, why: 'WorkloadBudgetExhausted' });
      continue;
    }
    used.set(key, (used.get(key) ?? 0) + 1);
    nsUsed.set(ns, (nsUsed.get(ns) ?? 0) + 1);
    allowed.push(action);
  }
  for (const d of downgraded) {
    allowed.push({
      ...d.action,
      action: 'Alert',
      reason: d.why,
      message: `${d.action.action} held back (${d.why}): ${d.action.message}`,
    });
  }
  return { allowed, downgraded, exhausted: downgraded.length > 0 };
}
