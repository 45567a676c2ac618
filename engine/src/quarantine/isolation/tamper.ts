import { LABEL, MANAGED_BY, type Quarantine } from '../../core/api/index.js';
import { ORIGINAL_LABELS_ANNOTATION, QUARANTINE_ANNOTATION } from '../actions/detach-patch.js';
import { ISOLATION_POLICY_NAME, isolationNetworkPolicy } from '../actions/isolation-policy.js';

/**
 * Tampering with a held pod's isolation (pure; ADR 1410). While a Quarantine is Isolated, the
 * engine's writes are the truth, and anyone else undoing them (a namespace admin with pod patch
 * or NetworkPolicy delete rights, the compromised workload's own controller) is tampering:
 *   - label:         the pod lost `bulkhead.dev/quarantined=true` (the deny-all stops selecting it);
 *   - detach:        a label the quarantine removed is back (the owner may adopt it again,
 *                    Services route to it, an allow policy selects it again);
 *   - annotation:    the saved original labels or the quarantine mark were edited (a release
 *                    could not restore the pod exactly);
 *   - networkPolicy: the namespace's `bulkhead-quarantine` NetworkPolicy is gone or changed.
 * Release is git's (the record removed or reverted) or `releaseAfter`'s, never a label edit.
 */
export type TamperKind = 'label' | 'detach' | 'annotation' | 'networkPolicy';

export interface HeldPod {
  metadata: { uid?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

export interface LiveNetworkPolicy {
  metadata: { labels?: Record<string, string> };
  spec?: {
    podSelector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
    policyTypes?: string[];
    ingress?: unknown[];
    egress?: unknown[];
  };
}

export interface Tampering {
  kind: TamperKind;
  /** What was found, for the Event and the log. */
  detail: string;
}

/** Whether the keeper holds this Quarantine's isolation: Enforce, Isolated, its pod still in place. */
export function isHeld(q: Quarantine): boolean {
  return (
    q.spec.mode === 'Enforce' &&
    q.status?.phase === 'Isolated' &&
    // A replaced StatefulSet pod was deleted on purpose; its successor is a new, free pod.
    !q.spec.actions?.some((a) => a.type === 'Replace')
  );
}

/** What was undone on the held pod, compared with what the Quarantine says was done to it. */
export function podTampering(q: Quarantine, pod: HeldPod): Tampering[] {
  const out: Tampering[] = [];
  const labels = pod.metadata.labels ?? {};
  const annotations = pod.metadata.annotations ?? {};
  if (labels[LABEL.quarantined] !== 'true')
    out.push({
      kind: 'label',
      detail: `label ${LABEL.quarantined}=true ${LABEL.quarantined in labels ? `changed to ${JSON.stringify(labels[LABEL.quarantined])}` : 'removed'}`,
    });
  const back = Object.keys(q.spec.originalLabels ?? {})
    .filter((k) => k in labels)
    .sort();
  if (back.length > 0) out.push({ kind: 'detach', detail: `removed label(s) ${back.join(', ')} put back` });
  const saved = JSON.stringify(sorted(originalLabels(q)));
  if (
    annotations[QUARANTINE_ANNOTATION] !== q.metadata.name ||
    !sameSaved(annotations[ORIGINAL_LABELS_ANNOTATION], saved)
  )
    out.push({
      kind: 'annotation',
      detail: `annotations ${QUARANTINE_ANNOTATION} / ${ORIGINAL_LABELS_ANNOTATION} edited`,
    });
  return out;
}

/**
 * The one pod merge patch that puts the isolation back: the quarantined label, the removed
 * labels removed again, the marks as the Quarantine recorded them. The uid is a precondition.
 */
export function podRepairPatch(q: Quarantine, pod: HeldPod) {
  const labels: Record<string, string | null> = { [LABEL.quarantined]: 'true' };
  for (const k of Object.keys(q.spec.originalLabels ?? {})) if (k in (pod.metadata.labels ?? {})) labels[k] = null;
  return {
    metadata: {
      uid: q.spec.pod.uid,
      labels,
      annotations: {
        [ORIGINAL_LABELS_ANNOTATION]: JSON.stringify(originalLabels(q)),
        [QUARANTINE_ANNOTATION]: q.metadata.name!,
      },
    },
  };
}

/** What is wrong with the namespace's deny-all: undefined when it is as the engine applies it. */
export function networkPolicyTampering(namespace: string, live: LiveNetworkPolicy | undefined): Tampering | undefined {
  if (!live) return { kind: 'networkPolicy', detail: `NetworkPolicy ${ISOLATION_POLICY_NAME} deleted` };
  const want = isolationNetworkPolicy(namespace).spec;
  const spec = live.spec ?? {};
  const same =
    JSON.stringify(sorted(spec.podSelector?.matchLabels ?? {})) === JSON.stringify(want.podSelector.matchLabels) &&
    (spec.podSelector?.matchExpressions ?? []).length === 0 &&
    JSON.stringify([...(spec.policyTypes ?? [])].sort()) === JSON.stringify([...want.policyTypes].sort()) &&
    (spec.ingress ?? []).length === 0 &&
    (spec.egress ?? []).length === 0;
  if (!same) return { kind: 'networkPolicy', detail: `NetworkPolicy ${ISOLATION_POLICY_NAME} spec changed` };
  // The keeper watches by this label: without it, the next edit would go unseen until the resync.
  if (live.metadata.labels?.[LABEL.managedBy] !== MANAGED_BY)
    return { kind: 'networkPolicy', detail: `NetworkPolicy ${ISOLATION_POLICY_NAME} lost label ${LABEL.managedBy}` };
  return undefined;
}

/**
 * A JSON patch that puts a changed deny-all back as a whole: a server-side apply would keep
 * fields another manager added (an extra matchLabels key narrows the selector to nothing).
 */
export function networkPolicyRepairPatch(namespace: string, live: LiveNetworkPolicy): unknown[] {
  const want = isolationNetworkPolicy(namespace);
  return [
    { op: 'replace', path: '/spec', value: want.spec },
    live.metadata.labels
      ? {
          op: 'add',
          path: `/metadata/labels/${LABEL.managedBy.replace(/~/g, '~0').replace(/\//g, '~1')}`,
          value: MANAGED_BY,
        }
      : { op: 'add', path: '/metadata/labels', value: want.metadata.labels },
  ];
}

function sorted(o: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

function sameSaved(json: string | undefined, want: string): boolean {
  try {
    const v = JSON.parse(json ?? '') as Record<string, string>;
    return typeof v === 'object' && v !== null && JSON.stringify(sorted(v)) === want;
  } catch {
    return false;
  }
}

function originalLabels(q: Quarantine): Record<string, string> {
  return Object.fromEntries(
    Object.entries(q.spec.originalLabels ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}
