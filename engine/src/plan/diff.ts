/**
 * Structural comparison of what Bulkhead wants against what the cluster has (pure).
 * `isSubset`: every field we set has our value (the apiserver may add defaults and other
 * managers may add fields: neither is drift). `fieldChanges` lists what an apply would
 * change, as JSON-pointer-ish paths, for `bulkhead plan`.
 */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isSubset(want: unknown, have: unknown): boolean {
  if (isObject(want)) {
    if (!isObject(have)) return false;
    return Object.entries(want).every(([k, v]) => v === undefined || isSubset(v, have[k]));
  }
  if (Array.isArray(want)) {
    return Array.isArray(have) && want.length === have.length && want.every((v, i) => isSubset(v, have[i]));
  }
  return want === have;
}

export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

/** The fields that differ between two objects, limited to `max` entries. */
export function fieldChanges(before: unknown, after: unknown, max = 50, path = ''): FieldChange[] {
  const out: FieldChange[] = [];
  const walk = (b: unknown, a: unknown, p: string): void => {
    if (out.length >= max) return;
    if (isObject(b) && isObject(a)) {
      for (const k of [...new Set([...Object.keys(b), ...Object.keys(a)])].sort()) walk(b[k], a[k], `${p}.${k}`);
      return;
    }
    if (Array.isArray(b) && Array.isArray(a) && b.length === a.length) {
      b.forEach((v, i) => walk(v, a[i], `${p}[${i}]`));
      return;
    }
    if (JSON.stringify(b) === JSON.stringify(a)) return;
    out.push({ path: p || '.', ...(b === undefined ? {} : { before: b }), ...(a === undefined ? {} : { after: a }) });
  };
  walk(before, after, path);
  return out;
}

/** The part of an object a plan compares: labels, annotations, owners and everything but metadata/status. */
export function comparable(obj: Record<string, unknown>): Record<string, unknown> {
  const { metadata, status: _status, apiVersion: _a, kind: _k, ...rest } = obj;
  const m = (metadata ?? {}) as { labels?: unknown; annotations?: unknown; ownerReferences?: unknown };
  const meta: Record<string, unknown> = {};
  if (m.labels) meta.labels = m.labels;
  if (Array.isArray(m.ownerReferences) && m.ownerReferences.length > 0) meta.ownerReferences = m.ownerReferences;
  if (m.annotations) {
    // The last-applied annotation of client-side apply is noise in a field diff.
    const { 'kubectl.kubernetes.io/last-applied-configuration': _l, ...ann } = m.annotations as Record<string, unknown>;
    if (Object.keys(ann).length > 0) meta.annotations = ann;
  }
  return { metadata: meta, ...rest };
}
