import { LABEL, MANAGED_BY } from '../core/api/index.js';
import { FIELD_MANAGER } from '../core/kube/apply.js';
import type { KubeObject } from '../core/kube/resources.js';

/**
 * The inventory of what a PolicySource created lives on the objects themselves (no
 * unbounded list in any CR): the managed-by label plus the source's name. Prune deletes an
 * object only when both labels say so AND the `bulkhead` field manager applied it, so an
 * object someone labelled by hand, or created with kubectl, is never pruned.
 */
export const SOURCE_LABEL = 'bulkhead.dev/policy-source';

export function inventoryLabels(sourceName: string): Record<string, string> {
  return { [LABEL.managedBy]: MANAGED_BY, [SOURCE_LABEL]: sourceName };
}

export function inventorySelector(sourceName: string): string {
  return `${LABEL.managedBy}=${MANAGED_BY},${SOURCE_LABEL}=${sourceName}`;
}

export function isInInventory(live: KubeObject, sourceName: string): boolean {
  const l = live.metadata.labels ?? {};
  if (l[LABEL.managedBy] !== MANAGED_BY || l[SOURCE_LABEL] !== sourceName) return false;
  return (live.metadata.managedFields ?? []).some(
    (m) => m.manager === FIELD_MANAGER && m.operation === 'Apply' && !m.subresource,
  );
}

export const objectKey = (o: {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}): string => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
