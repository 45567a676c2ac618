// The CRs the engine would apply, as multi-document YAML, for teams whose Argo CD or Flux
// applies them instead. Status is the engine's and is dropped; every object says where it came
// from (file:line, and the repository when given). No `app.kubernetes.io/managed-by:
// bulkhead`: the GitOps tool manages these objects, and the engine's prune inventory must
// never take them for its own (ADR 1600).
import { dump } from 'js-yaml';
import { ANNOTATION, API_VERSION, KIND, type HealthPolicy, type RepoSettings } from '../core/api/index.js';
import { scrub } from '../source/index.js';
import type { LoadedPolicy } from './load-policy-dir.js';

export interface RenderOptions {
  /** The policy repository's URL, stamped as bulkhead.dev/source-repo (userinfo removed). */
  sourceRepo?: string;
}

/** One CR; the repository's default mode (bulkhead.yaml) is written into policies without one. */
export function renderPolicy(
  input: HealthPolicy | LoadedPolicy,
  settings?: RepoSettings,
  opts: RenderOptions = {},
): HealthPolicy {
  const policy = 'policy' in input ? input.policy : input;
  const source = 'policy' in input ? { [ANNOTATION.source]: `${input.file}:${input.line}` } : {};
  const repo = opts.sourceRepo ? { [ANNOTATION.sourceRepo]: scrub(opts.sourceRepo) } : {};
  const { name, labels, annotations } = policy.metadata;
  const annots = { ...annotations, ...source, ...repo };
  return {
    apiVersion: API_VERSION,
    kind: KIND.HealthPolicy,
    metadata: {
      name,
      ...(labels && Object.keys(labels).length > 0 ? { labels } : {}),
      ...(Object.keys(annots).length > 0 ? { annotations: annots } : {}),
    },
    spec:
      policy.spec.action.mode === undefined && settings?.defaults?.mode
        ? { ...policy.spec, action: { ...policy.spec.action, mode: settings.defaults.mode } }
        : policy.spec,
  };
}

/** Multi-document YAML, sorted by name so the output is stable across runs. */
export function renderPolicies(
  policies: readonly (HealthPolicy | LoadedPolicy)[],
  settings?: RepoSettings,
  opts: RenderOptions = {},
): string {
  const objects = policies
    .map((p) => renderPolicy(p, settings, opts))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return objects.map((o) => `---\n${dump(o, { noRefs: true, lineWidth: -1 })}`).join('');
}
