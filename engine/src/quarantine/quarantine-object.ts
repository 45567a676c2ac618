import { API_VERSION, KIND, LABEL, MANAGED_BY, type Quarantine } from '../core/api/index.js';
import type { PlannedAction, Signal } from '../analytics/index.js';

/**
 * The Quarantine CR (pure): the cluster's current-state record of one action on one pod, and
 * the audit outbox entry (status.audit Pending until the git record is pushed). Its name is
 * derived from the pod (name + first 8 of the uid), so creating it twice is a 409, never a
 * duplicate: that is what makes a crash-and-retry exactly-once.
 */
export const INCIDENT_LABEL = 'bulkhead.dev/incident';
export const POLICY_LABEL = 'bulkhead.dev/policy';
/** Quarantine (isolate + detach) or Isolate (isolate only): what a resumed enforcement redoes. */
export const ACTION_LABEL = 'bulkhead.dev/action';
/**
 * On a Quarantine whose policy asks for `replacement.avoidNode: AntiAffinity`: while it is held,
 * the injection webhook keeps new pods of its owner off its node (admission watches this label).
 */
export const AVOID_NODE_LABEL = 'bulkhead.dev/avoid-node';

export function quarantineName(pod: { name: string; uid: string }): string {
  const uid8 = pod.uid.replace(/-/g, '').slice(0, 8);
  // Names are DNS subdomains (253); leave room for the suffix.
  return `${pod.name.slice(0, 240)}-${uid8}`;
}

export function recordPath(cluster: string, namespace: string, pod: { name: string; uid: string }): string {
  return `records/${cluster}/${namespace}/${quarantineName(pod)}.yaml`;
}

type QuarantineReason = Quarantine['spec']['reason'];
const KNOWN_REASONS: readonly QuarantineReason[] = [
  'ConsecutiveFailures',
  'ErrorRate',
  'LatencyP99',
  'Restarts',
  'CrashLoop',
  'OOMKilled',
  'IdentityRejected',
  'ProcessAnomaly',
  'External',
  'Similar',
  'Manual',
];

function reasonOf(action: PlannedAction): QuarantineReason {
  if (action.role === 'similar') return 'Similar';
  const t = action.signals[0]?.type;
  return t && (KNOWN_REASONS as readonly string[]).includes(t) ? (t as QuarantineReason) : 'Manual';
}

function evidenceOf(signals: readonly Signal[]): NonNullable<Quarantine['spec']['evidence']> {
  const out: NonNullable<Quarantine['spec']['evidence']> = [];
  for (const s of signals) {
    for (const e of s.evidence) {
      const time = new Date(e.t).toISOString();
      if ('ok' in e)
        out.push({
          time,
          source: 'Sidecar',
          detail: `${s.type}: probe ${e.ok ? 'ok' : 'failed'}${e.status ? ` status ${e.status}` : ''}${e.errorClass ? ` ${e.errorClass}` : ''}`,
          value: e.latencyMs,
        });
      else if ('kind' in e)
        out.push({
          time,
          source: 'PodStatus',
          detail: `${s.type}: ${e.kind}${e.container ? ` (${e.container})` : ''}`,
        });
      else if ('rejected' in e) out.push({ time, source: 'Event', detail: `${s.type}: report identity rejected` });
      else if ('detail' in e)
        out.push({
          time,
          source: 'Event',
          detail: `${s.type}: ${e.detail}`.slice(0, 1024),
          ...(e.value !== undefined ? { value: e.value } : {}),
        });
      else
        out.push({
          time,
          source: 'Sidecar',
          detail: `${s.type}: processes ${e.processes}, fds ${e.openFds}, threads ${e.threads}`,
        });
      if (out.length >= 20) return out;
    }
  }
  return out;
}

export interface QuarantineInput {
  action: PlannedAction;
  kind: 'Quarantine' | 'Isolate';
  policy: string;
  mode: 'Enforce' | 'DryRun';
  incident: string;
  cluster: string;
  now: Date;
  node?: string;
  releaseAfter?: string;
  /** Where the decision is recorded when not in this pod's own record (a sibling's: its failing pod's). */
  recordPath?: string;
  /** Keep the owner's new pods off this pod's node (replacement.avoidNode: AntiAffinity). */
  avoidNode?: boolean;
}

export function buildQuarantine(input: QuarantineInput): Quarantine {
  const { action } = input;
  const pod = action.pod;
  const name = quarantineName(pod);
  return {
    apiVersion: API_VERSION,
    kind: KIND.Quarantine,
    metadata: {
      name,
      namespace: pod.namespace,
      labels: {
        [LABEL.managedBy]: MANAGED_BY,
        [POLICY_LABEL]: input.policy,
        // Label values are ≤63 chars of [a-z0-9._-]: the incident key is hashed upstream.
        [INCIDENT_LABEL]: input.incident,
        [ACTION_LABEL]: input.kind,
        ...(input.avoidNode ? { [AVOID_NODE_LABEL]: 'true' } : {}),
      },
    },
    spec: {
      pod: { name: pod.name, uid: pod.uid },
      ...(pod.owner ? { owner: { kind: pod.owner.kind, name: pod.owner.name, uid: pod.owner.uid } } : {}),
      ...((input.node ?? pod.node) ? { node: input.node ?? pod.node } : {}),
      cluster: input.cluster,
      policy: input.policy,
      reason: reasonOf(action),
      message: action.message.slice(0, 1000),
      mode: input.mode,
      time: input.now.toISOString(),
      ...(input.releaseAfter ? { releaseAfter: input.releaseAfter } : {}),
      evidence: evidenceOf(action.signals),
      actions: [],
      recordPath: input.recordPath ?? recordPath(input.cluster, pod.namespace, pod),
    },
  };
}
