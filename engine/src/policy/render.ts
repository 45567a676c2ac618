// The CRs the engine would apply, as multi-document YAML, for teams whose Argo CD or Flux
// applies them instead. Status is the engine's and is dropped; every object carries the
// managed-by label the prune inventory keys on, and where it came from.
import { dump } from 'js-yaml';
import {
  ANNOTATION,
  API_VERSION,
  KIND,
  LABEL,
  MANAGED_BY,
  type HealthPolicy,
  type RepoSettings,
} from '../core/api/index.js';
import type { LoadedPolicy } from './load-policy-dir.js';

/** One CR; the repository's default mode (bulkhead.yaml) is written into policies without one. */
export function renderPolicy(input: HealthPolicy | LoadedPolicy, settings?: RepoSettings): HealthPolicy {
  const policy = 'policy' in input ? input.policy : input;
  const source = 'policy' in input ? { [ANNOTATION.source]: `${input.file}:${input.line}` } : {};
  const { name, labels, annotations } = policy.metadata;
  const annots = { ...annotations, ...source };
  return {
    apiVersion: API_VERSION,
    kind: KIND.HealthPolicy,
    metadata: {
      name,
      labels: { ...labels, [LABEL.managedBy]: MANAGED_BY },
      ...(Object.keys(annots).length > 0 ? { annotations: annots } : {}),
    },
    spec:
      policy.spec.action.mode === undefined && settings?.defaults?.mode
        ? { ...policy.spec, action: { ...policy.spec.action, mode: settings.defaults.mode } }
        : policy.spec,
  };
}

/** Multi-document YAML, sorted by name so the output is stable across runs. */
export function renderPolicies(policies: readonly (HealthPolicy | LoadedPolicy)[], settings?: RepoSettings): string {
  const objects = policies
    .map((p) => renderPolicy(p, settings))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return objects.map((o) => `---\n${dump(o, { noRefs: true, lineWidth: -1 })}`).join('');
}
