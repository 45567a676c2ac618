import type { JsonPatchOp } from './inject/patch.js';

interface NodeSelectorTerm {
  matchExpressions?: unknown[];
  matchFields?: { key: string; operator: string; values?: string[] }[];
}
interface Affinity {
  nodeAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** The pod's controller (the owner that creates replacements), from the admitted object. */
export function controllerUid(pod: unknown): string | undefined {
  const refs = (pod as { metadata?: { ownerReferences?: { uid?: string; controller?: boolean }[] } }).metadata
    ?.ownerReferences;
  return refs?.find((r) => r.controller)?.uid;
}

/**
 * "The replacement starts elsewhere" by node affinity (pure): the pod's required node affinity
 * gains `metadata.name NotIn [nodes]` in every term (terms are ORed, so each must exclude the
 * nodes), or gets one term with only that. The rest of the pod's affinity is kept as it is.
 */
export function avoidNodesPatch(
  spec: { affinity?: Affinity } | undefined,
  nodes: readonly string[],
): JsonPatchOp | undefined {
  if (nodes.length === 0) return undefined;
  const avoid = { key: 'metadata.name', operator: 'NotIn', values: [...nodes] };
  const affinity: Affinity = structuredClone(spec?.affinity ?? {});
  const required = affinity.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const terms = required?.nodeSelectorTerms?.length
    ? required.nodeSelectorTerms.map((t) => ({ ...t, matchFields: [...(t.matchFields ?? []), avoid] }))
    : [{ matchFields: [avoid] }];
  affinity.nodeAffinity = {
    ...affinity.nodeAffinity,
    requiredDuringSchedulingIgnoredDuringExecution: { ...required, nodeSelectorTerms: terms },
  };
  // "add" on an existing member replaces it: one op whether or not the pod had an affinity.
  return { op: 'add', path: '/spec/affinity', value: affinity };
}
