import type { Budget, HealthPolicy } from '../core/api/index.js';
import type { Incident } from './grouping.js';
import type { PodHealth, Signal } from './types.js';

export type ActionType = 'Quarantine' | 'Isolate' | 'Restart' | 'Alert';

export interface PlannedAction {
  pod: PodHealth;
  action: ActionType;
  /** primary: the pod itself failed; similar: a sibling sharing what the policy's `similar` names. */
  role: 'primary' | 'similar';
  /** For a sibling: the failing pod it was matched with; its record carries the sibling's action. */
  similarTo?: { namespace: string; name: string; uid: string };
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
  /**
   * Keep the replacement of every quarantined pod off its node: by a taint on the node, or by
   * a node affinity the injection webhook gives the owner's new pods.
   */
  avoidNode?: 'Taint' | 'AntiAffinity';
  incident: Incident;
  actions: PlannedAction[];
}

/** How disruptive an action is, so "the milder action" can be enforced. */
export const SEVERITY: Record<ActionType, number> = { Alert: 0, Restart: 1, Isolate: 2, Quarantine: 3 };

type Similar = NonNullable<HealthPolicy['spec']['action']['similar']>;
type Shared = NonNullable<Similar['sharing']>[number];

const SHARED: Record<Shared, (p: PodHealth) => string | undefined> = {
  Image: (p) => p.image,
  Node: (p) => p.node,
  Owner: (p) => p.owner?.uid,
};

/**
 * What `candidate` shares with the failing pod, or undefined when it is not similar (pure):
 * same namespace, and every named attribute and groupBy label present on both and equal.
 */
export function sharedWith(failing: PodHealth, candidate: PodHealth, sim: Similar): string | undefined {
  if (failing.namespace !== candidate.namespace) return undefined;
  const sharing = sim.sharing ?? [];
  const keys = sim.groupBy ?? [];
  if (sharing.length + keys.length === 0) return undefined;
  const parts: string[] = [];
  for (const what of sharing) {
    const v = SHARED[what](failing);
    if (v === undefined || v !== SHARED[what](candidate)) return undefined;
    parts.push(what === 'Owner' ? `owner ${failing.owner!.kind}/${failing.owner!.name}` : `${what.toLowerCase()} ${v}`);
  }
  for (const k of keys) {
    if (failing.labels[k] === undefined || failing.labels[k] !== candidate.labels[k]) return undefined;
    parts.push(`${k}=${failing.labels[k]}`);
  }
  return parts.join(', ');
}

/**
 * One verdict per incident: every failing member gets the policy's action; healthy pods that
 * share what the policy's `similar` names (image, node, owner, groupBy labels) with a failing
 * member get the policy's milder sibling action (never a harsher one than the primary action),
 * each tied to the failing pod it matched so one record tells the whole decision.
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
      let twin: PodHealth | undefined;
      let shared: string | undefined;
      for (const m of incident.members) {
        shared = sharedWith(m.pod, candidate, sim);
        if (shared !== undefined) {
          twin = m.pod;
          break;
        }
      }
      if (!twin) continue;
      similar.push({
        pod: candidate,
        action: siblingAction,
        role: 'similar',
        similarTo: { namespace: twin.namespace, name: twin.name, uid: twin.uid },
        reason: 'SimilarToFailingPod',
        message: `shares ${shared} with failing pod ${twin.name}`,
        signals: [],
      });
    }
  }
  return {
    policy: policy.metadata.name,
    mode: action.mode ?? 'Enforce',
    ...(action.budget ? { budget: action.budget } : {}),
    ...(action.taintNode ? { taintNode: true } : {}),
    ...(action.replacement?.avoidNode && action.replacement.avoidNode !== 'None'
      ? { avoidNode: action.replacement.avoidNode }
      : {}),
    incident,
    actions: [...primary, ...similar],
  };
}
