import { ANNOTATION, API_VERSION, KIND } from '../core/api/index.js';
import type { KubeObject } from '../core/kube/resources.js';
import type { LoadedPolicy } from '../policy/index.js';
import { scrub } from '../source/index.js';
import { inventoryLabels } from './inventory.js';

const defined = (m: Record<string, string | undefined> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(m ?? {}).filter((e): e is [string, string] => e[1] !== undefined));

/** The PolicySource the objects come from; `uid` is unknown for a local folder source. */
export interface SourceRef {
  name: string;
  uid?: string;
  /** The repository's URL (a PolicySource's spec.url); stamped without userinfo. */
  url?: string;
  /** bulkhead.yaml defaults.mode: written into policies that set no mode, as `bulkhead render` does. */
  defaultMode?: 'Enforce' | 'DryRun';
}

/**
 * The objects a set of policies implies (pure): one HealthPolicy CR each, carrying the
 * inventory labels and annotations saying where in git it came from (`file:line`, the repository). With the
 * source's uid they also name the PolicySource as owner (no blockOwnerDeletion: no extra
 * RBAC), so deleting a PolicySource lets the garbage collector remove what it applied.
 * Status is never part of what is applied.
 */
export function desiredObjects(policies: LoadedPolicy[], source: SourceRef): KubeObject[] {
  const owner = source.uid
    ? [{ apiVersion: API_VERSION, kind: KIND.PolicySource, name: source.name, uid: source.uid }]
    : undefined;
  const repo: Record<string, string> = source.url ? { [ANNOTATION.sourceRepo]: scrub(source.url) } : {};
  return policies.map(({ policy, file, line }) => ({
    apiVersion: API_VERSION,
    kind: KIND.HealthPolicy,
    metadata: {
      name: policy.metadata.name,
      labels: { ...defined(policy.metadata.labels), ...inventoryLabels(source.name) },
      annotations: { ...defined(policy.metadata.annotations), [ANNOTATION.source]: `${file}:${line}`, ...repo },
      ...(owner ? { ownerReferences: owner } : {}),
    },
    spec: (policy.spec.action.mode === undefined && source.defaultMode
      ? { ...policy.spec, action: { ...policy.spec.action, mode: source.defaultMode } }
      : policy.spec) as unknown as Record<string, unknown>,
  }));
}
