import { FIELD_MANAGER } from '../core/kube/apply.js';
import type { KubeObject } from '../core/kube/resources.js';

export interface FieldOwner {
  manager: string;
  operation: string;
}

/** `.spec.action.type` → ['spec','action','type']; stops at a list selector (`rules[0]`, `[type="x"]`). */
export function fieldPathSegments(path: string): string[] {
  const out: string[] = [];
  for (const raw of path.replace(/^\./, '').split('.')) {
    const bracket = raw.indexOf('[');
    const seg = bracket >= 0 ? raw.slice(0, bracket) : raw;
    if (seg) out.push(seg);
    if (bracket >= 0) break;
  }
  return out;
}

/**
 * Who, other than Bulkhead, owns a field of the live object (pure): walks each managedFields
 * entry's fieldsV1 (`{"f:spec":{"f:action":{"f:type":{}}}}`) along the path. Used to tell
 * a conflict with another declarative tool (an Apply owner) from drift by hand (Update owners).
 */
export function fieldOwners(live: KubeObject | undefined, fieldPath: string): FieldOwner[] {
  const segs = fieldPathSegments(fieldPath);
  if (segs.length === 0) return [];
  const owners: FieldOwner[] = [];
  for (const m of live?.metadata.managedFields ?? []) {
    if (!m.manager || m.manager === FIELD_MANAGER || m.subresource) continue;
    let node: unknown = m.fieldsV1;
    for (const s of segs) {
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[`f:${s}`] : undefined;
      if (node === undefined) break;
    }
    if (node !== undefined) owners.push({ manager: m.manager, operation: m.operation ?? '' });
  }
  return owners;
}
