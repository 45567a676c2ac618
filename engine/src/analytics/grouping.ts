import type { PodHealth, Signal } from './types.js';

/**
 * Many pods failing together on one node, one image or one owner in the same window are one
 * incident (one decision, one record), not N quarantines. Node first (an infrastructure
 * fault), then image (a bad release), then owner; what no bucket claims stays a single-pod
 * incident.
 */
export type IncidentScope = 'node' | 'image' | 'owner' | 'pod';

export interface Incident {
  /** Stable within a window: scope + value, e.g. "node/kwok-node-1". */
  key: string;
  scope: IncidentScope;
  value: string;
  members: { pod: PodHealth; signals: Signal[] }[];
}

export const GROUPING_DEFAULTS = { minPods: 3 };

const attribute: Record<Exclude<IncidentScope, 'pod'>, (p: PodHealth) => string | undefined> = {
  node: (p) => p.node,
  image: (p) => p.image,
  owner: (p) => (p.owner ? `${p.namespace}/${p.owner.kind}/${p.owner.name}` : undefined),
};

export function groupIncidents(firing: { pod: PodHealth; signals: Signal[] }[], opts = GROUPING_DEFAULTS): Incident[] {
  const incidents: Incident[] = [];
  let left = [...firing];
  for (const scope of ['node', 'image', 'owner'] as const) {
    const buckets = new Map<string, typeof left>();
    for (const m of left) {
      const v = attribute[scope](m.pod);
      if (v === undefined) continue;
      buckets.set(v, [...(buckets.get(v) ?? []), m]);
    }
    for (const [value, members] of [...buckets].sort(([a], [b]) => a.localeCompare(b))) {
      if (members.length < opts.minPods) continue;
      incidents.push({ key: `${scope}/${value}`, scope, value, members });
      const taken = new Set(members.map((m) => m.pod.uid));
      left = left.filter((m) => !taken.has(m.pod.uid));
    }
  }
  for (const m of left) {
    incidents.push({
      key: `pod/${m.pod.namespace}/${m.pod.name}`,
      scope: 'pod',
      value: `${m.pod.namespace}/${m.pod.name}`,
      members: [m],
    });
  }
  return incidents;
}
