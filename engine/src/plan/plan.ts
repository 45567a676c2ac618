import type { KubeObject } from '../core/kube/resources.js';
import { comparable, fieldChanges, isSubset, type FieldChange } from './diff.js';
import { isInInventory, objectKey } from './inventory.js';
import { strayFields } from './stray-fields.js';

export type PlanAction = 'create' | 'update' | 'prune' | 'unchanged';

export interface PlanItem {
  action: PlanAction;
  kind: string;
  name: string;
  namespace?: string;
  /** For create and update: the object to apply. */
  desired?: KubeObject;
  /** For update and prune: the object in the cluster. */
  live?: KubeObject;
  /** For update: what changes (from the dry-run result when there is one). */
  changes?: FieldChange[];
  /** For update: JSON pointers of fields git does not set that were added by hand, to remove. */
  remove?: string[];
}

export interface Plan {
  items: PlanItem[];
  counts: Record<PlanAction, number>;
}

export const hasChanges = (p: Plan): boolean => p.counts.create + p.counts.update + p.counts.prune > 0;

/**
 * What an apply would do (pure): desired objects missing from the cluster are created;
 * present but not a subset of the live object (a changed commit, or drift) are updated;
 * inventory objects no longer desired are pruned; the rest is unchanged and costs no write.
 */
export function computePlan(desired: KubeObject[], live: KubeObject[], sourceName: string): Plan {
  const liveByKey = new Map(live.map((o) => [objectKey(o), o]));
  const wanted = new Set<string>();
  const items: PlanItem[] = [];
  for (const d of desired) {
    const key = objectKey(d);
    wanted.add(key);
    const l = liveByKey.get(key);
    const base = {
      kind: d.kind,
      name: d.metadata.name,
      ...(d.metadata.namespace ? { namespace: d.metadata.namespace } : {}),
      desired: d,
    };
    if (!l) {
      items.push({ action: 'create', ...base });
      continue;
    }
    const stray = strayFields(d, l);
    const removed = stray.map((path) => ({ path, before: at(l, path) }));
    if (isSubset(comparable(d), comparable(l))) {
      if (stray.length === 0) items.push({ action: 'unchanged', ...base, live: l });
      else items.push({ action: 'update', ...base, live: l, changes: removed, remove: stray });
    } else {
      // Only the fields we set: fields other managers or defaults added are not our changes.
      const before = pick(comparable(l), comparable(d));
      const changes = [...fieldChanges(before, comparable(d)), ...removed];
      items.push({ action: 'update', ...base, live: l, changes, ...(stray.length > 0 ? { remove: stray } : {}) });
    }
  }
  for (const l of live) {
    if (wanted.has(objectKey(l)) || !isInInventory(l, sourceName)) continue;
    items.push({
      action: 'prune',
      kind: l.kind,
      name: l.metadata.name,
      ...(l.metadata.namespace ? { namespace: l.metadata.namespace } : {}),
      live: l,
    });
  }
  const counts = { create: 0, update: 0, prune: 0, unchanged: 0 };
  for (const i of items) counts[i.action]++;
  items.sort((a, b) => a.name.localeCompare(b.name));
  return { items, counts };
}

/** The parts of `from` at the paths `shape` has (so a diff shows only fields we manage). */
function pick(from: unknown, shape: unknown): unknown {
  if (typeof shape !== 'object' || shape === null || Array.isArray(shape)) return from;
  if (typeof from !== 'object' || from === null || Array.isArray(from)) return from;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(shape)) {
    const v = (from as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = pick(v, (shape as Record<string, unknown>)[k]);
  }
  return out;
}

/** The value at a JSON pointer (for the plan's "before"). */
function at(obj: unknown, pointer: string): unknown {
  let v: unknown = obj;
  for (const raw of pointer.split('/').slice(1)) {
    const k = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  }
  return v;
}
