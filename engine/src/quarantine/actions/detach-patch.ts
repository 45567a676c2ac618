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
export function planDetach(
  podLabels: Readonly<Record<string, string>>,
  ownerSelectorKeys: readonly string[],
  quarantineName: string,
  podAnnotations: Readonly<Record<string, string>> = {},
): DetachPlan {
  // A retry after a crash finds the labels already gone: what the earlier attempt saved for
  // this same quarantine must survive, or a release could not restore them.
  const removed: Record<string, string> =
    podAnnotations[QUARANTINE_ANNOTATION] === quarantineName
      ? parseLabels(podAnnotations[ORIGINAL_LABELS_ANNOTATION])
      : {};
  const labels: Record<string, string | null> = { [LABEL.quarantined]: 'true' };
  for (const key of ownerSelectorKeys) {
    const v = podLabels[key];
    if (v === undefined || key === LABEL.quarantined) continue;
    removed[key] = v;
    labels[key] = null;
  }
  return {
    patch: {
      metadata: {
        labels,
        annotations: { [ORIGINAL_LABELS_ANNOTATION]: JSON.stringify(removed), [QUARANTINE_ANNOTATION]: quarantineName },
      },
    },
    removed,
  };
}

/** The inverse (pure): restore the removed labels and drop the quarantine marks. */
export function planReattach(annotations: Readonly<Record<string, string>>): {
  metadata: { labels: Record<string, string | null>; annotations: Record<string, string | null> };
} {
  const original = parseLabels(annotations[ORIGINAL_LABELS_ANNOTATION]);
  return {
    metadata: {
      labels: { ...original, [LABEL.quarantined]: null },
      annotations: { [ORIGINAL_LABELS_ANNOTATION]: null, [QUARANTINE_ANNOTATION]: null },
    },
  };
}

/** Label keys a workload selector uses: matchLabels keys and matchExpressions keys. */
export function selectorKeys(
  selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string }[] } | undefined,
): string[] {
  return [...Object.keys(selector?.matchLabels ?? {}), ...(selector?.matchExpressions ?? []).map((e) => e.key)];
}

function parseLabels(json: string | undefined): Record<string, string> {
  try {
    const v = JSON.parse(json ?? '{}') as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'string')) as Record<string, string>;
  } catch {
    return {};
  }
}
