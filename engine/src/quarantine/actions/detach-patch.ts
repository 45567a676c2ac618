import { LABEL } from '../../core/api/index.js';

/** Where a detached pod keeps the labels it lost, so a release can restore them exactly. */
export const ORIGINAL_LABELS_ANNOTATION = 'bulkhead.dev/original-labels';
export const QUARANTINE_ANNOTATION = 'bulkhead.dev/quarantine';

export interface DetachPlan {
  /** A JSON merge patch for the pod's metadata (null removes a label). */
  patch: { metadata: { labels: Record<string, string | null>; annotations: Record<string, string> } };
  removed: Record<string, string>;
}

/**
 * Detach (pure): take the pod out of its owner's selector so the owner starts a replacement
 * and Services stop routing to it, and mark it quarantined so the deny-all NetworkPolicy
 * selects it, in ONE patch: the pod is never detached-but-reachable or isolated-but-counted.
 * Labels the owner does not select on stay, so dashboards and log queries keep working.
 */
export function planDetach(podLabels: Readonly<Record<string, string>>, ownerSelectorKeys: readonly string[], quarantineName: string): DetachPlan {
  const removed: Record<string, string> = {};
  const labels: Record<string, string | null> = { [LABEL.quarantined]: 'true' };
  for (const key of ownerSelectorKeys) {
    const v = podLabels[key];
    if (v === undefined || key === LABEL.quarantined) continue;
    removed[key] = v;
    labels[key] = null;
  }
  return {
    patch: { metadata: { labels, annotations: { [ORIGINAL_LABELS_ANNOTATION]: JSON.stringify(removed), [QUARANTINE_ANNOTATION]: quarantineName } } },
    removed,
  };
}

/** The inverse (pure): restore the removed labels and drop the quarantine marks. */
export function planReattach(annotations: Readonly<Record<string, string>>): {
  metadata: { labels: Record<string, string | null>; annotations: Record<string, string | null> };
} {
  let original: Record<string, string>;
  try {
    original = JSON.parse(annotations[ORIGINAL_LABELS_ANNOTATION] ?? '{}') as Record<string, string>;
  } catch {
    original = {};
  }
  return {
    metadata: {
      labels: { ...original, [LABEL.quarantined]: null },
      annotations: { [ORIGINAL_LABELS_ANNOTATION]: null, [QUARANTINE_ANNOTATION]: null },
    },
  };
}

/** Label keys a workload selector uses: matchLabels keys and matchExpressions keys. */
export function selectorKeys(selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string }[] } | undefined): string[] {
  return [...Object.keys(selector?.matchLabels ?? {}), ...(selector?.matchExpressions ?? []).map((e) => e.key)];
}
