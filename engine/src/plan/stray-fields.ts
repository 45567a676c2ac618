import { FIELD_MANAGER } from '../core/kube/apply.js';
import type { KubeObject } from '../core/kube/resources.js';

/**
 * Fields git does not set but someone set by hand (pure; ADR 1412). The plan's subset
 * comparison ignores fields Bulkhead does not set, since defaults and other tools' fields are
 * not drift; but a `kubectl edit` that *adds* one (`spec.match.namespaces` narrowing a policy
 * to nothing, a budget git leaves to its default) changes what the policy does as surely as
 * editing a field git sets, and a server-side apply never removes a field another manager
 * owns. Such fields are found from managedFields: owned under `spec` by an `Update` (imperative)
 * manager other than Bulkhead, where git's object has nothing. Another tool's `Apply` is not
 * drift (ADR 0201) and is left alone. Returns JSON pointers of the topmost such fields.
 */
export function strayFields(desired: KubeObject, live: KubeObject | undefined): string[] {
  const out = new Set<string>();
  for (const m of live?.metadata.managedFields ?? []) {
    if (m.operation !== 'Update' || !m.manager || m.manager === FIELD_MANAGER || m.subresource) continue;
    const spec = (m.fieldsV1 as Record<string, unknown> | undefined)?.['f:spec'];
    walk(spec, (desired as Record<string, unknown>).spec, '/spec', out);
  }
  return [...out].sort();
}

function walk(owned: unknown, want: unknown, pointer: string, out: Set<string>): void {
  if (typeof owned !== 'object' || owned === null) return;
  for (const key of Object.keys(owned)) {
    // Only plain fields: list items (k:, v:, i:) sit in lists the subset comparison already
    // compares whole; "." is the field itself.
    if (!key.startsWith('f:')) continue;
    const name = key.slice(2);
    const here = `${pointer}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const w =
      typeof want === 'object' && want !== null && !Array.isArray(want)
        ? (want as Record<string, unknown>)[name]
        : undefined;
    if (w === undefined) out.add(here);
    else if (typeof w === 'object' && w !== null && !Array.isArray(w))
      walk((owned as Record<string, unknown>)[key], w, here, out);
  }
}
