import type { Budget, HealthPolicy } from '../core/api/index.js';
import type { Incident } from './grouping.js';
import type { PodHealth, Signal } from './types.js';

export type ActionType = 'Quarantine' | 'Isolate' | 'Restart' | 'Alert';

export interface PlannedAction {
  pod: PodHealth;
  action: ActionType;
  /** primary: the pod itself failed; similar: a sibling by the policy's groupBy labels. */
  role: 'primary' | 'similar';
  reason: string;
  message: string;
  signals: Signal[];
}

/** What analytics asks for; quarantine/ applies the budget, DryRun and the cluster writes. */
export interface Verdict {
  policy: string;
  mode: 'Enforce' | 'DryRun';
  /** The policy's blast-radius budget, applied by quarantine/ before any action. */
  budget?: Budget;
  /** Taint the node of a node-wide incident so replacements start elsewhere. */
  taintNode?: boolean;
  incident: Incident;
  actions: PlannedAction[];
}

/** How disruptive an action is, so "the milder action" can be enforced. */
export const SEVERITY: Record<ActionType, number> = { Alert: 0, Restart: 1, Isolate: 2, Quarantine: 3 };

const matchesGroup = (a: PodHealth, b: PodHealth, keys: readonly string[]): boolean =>
  a.namespace === b.namespace && keys.every((k) => a.labels[k] !== undefined && a.labels[k] === b.labels[k]);

/**
 * One verdict per incident: every failing member gets the policy's action; healthy pods that
 * share the policy's `similar.groupBy` labels with a failing member get the policy's milder
 * sibling action (never a harsher one than the primary action).
 */
export function decide(incident: Incident, policy: HealthPolicy, population: readonly PodHealth[]): Verdict {
  const action = policy.spec.action;
  const primary: PlannedAction[] = incident.members.map(({ pod, signals }) => ({
    pod,
    action: action.type,
    role: 'primary',
    reason: signals[0]?.reason ?? 'Unhealthy',
    message: signals.map((s) => s.message).join('; '),
    signals,
  }));
  const similar: PlannedAction[] = [];
  const sim = action.similar;
  if (sim && sim.action !== 'None') {
    const siblingAction = SEVERITY[sim.action] <= SEVERITY[action.type] ? sim.action : 'Alert';
    const failing = new Set(incident.members.map((m) => m.pod.uid));
    for (const candidate of population) {
      if (failing.has(candidate.uid)) continue;
      const twin = incident.members.find((m) => matchesGroup(m.pod, candidate, sim.groupBy));
      if (!twin) continue;
      similar.push({
        pod: candidate,
        action: siblingAction,
        role: 'similar',
        reason: 'SimilarToFailingPod',
        message: `shares ${sim.groupBy.join(', ')} with failing pod ${twin.pod.name}`,
        signals: [],
      });
    }
  }
  return {
    policy: policy.metadata.name,
    mode: action.mode ?? 'Enforce',
    ...(action.budget ? { budget: action.budget } : {}),
    ...(action.taintNode ? { taintNode: true } : {}),
    incident,
    actions: [...primary, ...similar],
  };
}
