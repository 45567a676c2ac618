/**
 * Who may write Bulkhead's own objects, as data (pure). The guard's decision (guard.ts), the
 * webhook's `matchConditions` (here) and an in-apiserver policy read the same lists, so the
 * rule is stated once (ADR 1600):
 * - the engine: every guarded kind and subresource, every operation;
 * - GitOps writers (`--gitops-writers`, e.g. Flux's kustomize-controller or Argo CD's
 *   application-controller ServiceAccount): HealthPolicy and PolicySource objects, not their
 *   status (the engine's) and never a Quarantine (the engine's record), dry-run included;
 * - break-glass groups: HealthPolicy and PolicySource, never a Quarantine;
 * - cleanup users (namespace controller, garbage collector): DELETE of any guarded kind.
 */
export interface GuardWriters {
  /** Usernames of the engine, e.g. system:serviceaccount:<engine namespace>:bulkhead-engine. */
  engineUsernames: readonly string[];
  /** Usernames of the GitOps tools that apply HealthPolicies and PolicySources. */
  gitopsWriters?: readonly string[];
  /** Members of any of these groups may write git-managed kinds (the break-glass group). */
  breakGlassGroups: readonly string[];
  /** Deletes by these users pass on every guarded kind (default: DEFAULT_CLEANUP_USERNAMES). */
  cleanupUsernames?: readonly string[];
}

export const DEFAULT_CLEANUP_USERNAMES = [
  'system:serviceaccount:kube-system:namespace-controller',
  'system:serviceaccount:kube-system:generic-garbage-collector',
];

/** Examples the docs and `--help` name: Flux's and Argo CD's controllers as they install by default. */
export const GITOPS_WRITER_EXAMPLES = {
  flux: 'system:serviceaccount:flux-system:kustomize-controller',
  argocd: 'system:serviceaccount:argocd:argocd-application-controller',
} as const;

/** A username or group the guard can name in CEL without escaping: what Kubernetes identities look like. */
const IDENTITY = /^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,252}$/;

/** Usernames/groups from a flag or env (comma or whitespace separated), checked; a clear error names a bad one. */
export function parseIdentities(what: string, values: readonly string[] | string | undefined): string[] {
  const raw = typeof values === 'string' ? [values] : (values ?? []);
  const list = raw.flatMap((v) => v.split(/[\s,]+/)).filter((v) => v.length > 0);
  for (const v of list)
    if (!IDENTITY.test(v))
      throw new Error(`${what}: "${v}" is not a Kubernetes username or group (e.g. ${GITOPS_WRITER_EXAMPLES.flux})`);
  return [...new Set(list)];
}

/** The plural resource names the guard covers that git-managed writers may write. */
const GIT_MANAGED_RESOURCES = ['healthpolicies', 'policysources'] as const;

export interface MatchCondition {
  name: string;
  expression: string;
}

const celList = (xs: readonly string[]): string => `[${xs.map((x) => `'${x}'`).join(', ')}]`;

/**
 * The guard webhook's matchConditions: the apiserver calls the webhook only when every one is
 * true, so requests from identities that may write are never sent. That is what keeps a
 * stopped engine (no replica answering, failurePolicy Fail) from locking out the GitOps tool,
 * the break-glass group and namespace cleanup: their requests do not depend on the webhook.
 * Everyone else still reaches it and is refused, or fails closed while no replica answers.
 * Optional request fields are tested with has(): an expression error would fail the request.
 */
export function guardMatchConditions(w: GuardWriters): MatchCondition[] {
  for (const id of [
    ...w.engineUsernames,
    ...(w.gitopsWriters ?? []),
    ...w.breakGlassGroups,
    ...(w.cleanupUsernames ?? []),
  ])
    if (!IDENTITY.test(id)) throw new Error(`guard: "${id}" is not a Kubernetes username or group`);
  const user = (list: readonly string[]): string =>
    `has(request.userInfo.username) && request.userInfo.username in ${celList(list)}`;
  const gitManaged = `request.resource.resource in ${celList(GIT_MANAGED_RESOURCES)}`;
  const noSubresource = `(!has(request.subResource) || request.subResource == '')`;
  const out: MatchCondition[] = [];
  if (w.engineUsernames.length > 0) out.push({ name: 'not-the-engine', expression: `!(${user(w.engineUsernames)})` });
  const writers = w.gitopsWriters ?? [];
  if (writers.length > 0)
    out.push({
      name: 'not-a-gitops-writer',
      expression: `!(${user(writers)} && ${gitManaged} && ${noSubresource})`,
    });
  if (w.breakGlassGroups.length > 0)
    out.push({
      name: 'not-the-break-glass-group',
      expression: `!(has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in ${celList(w.breakGlassGroups)}) && ${gitManaged})`,
    });
  const cleanup = w.cleanupUsernames ?? DEFAULT_CLEANUP_USERNAMES;
  if (cleanup.length > 0)
    out.push({ name: 'not-a-cleanup-delete', expression: `!(request.operation == 'DELETE' && ${user(cleanup)})` });
  return out;
}

/** "who may write" as a sentence for denial messages (bounded: lists are cut after a few names). */
export function writersSentence(w: GuardWriters, kind: 'HealthPolicy' | 'PolicySource' | 'Quarantine'): string {
  const few = (xs: readonly string[]): string =>
    xs.length <= 3 ? xs.join(', ') : `${xs.slice(0, 3).join(', ')} and ${xs.length - 3} more`;
  const parts = w.engineUsernames.length > 0 ? [`the engine (${few(w.engineUsernames)})`] : ['the engine'];
  if (kind !== 'Quarantine') {
    if ((w.gitopsWriters ?? []).length > 0) parts.push(`GitOps writers ${few(w.gitopsWriters ?? [])}`);
    if (w.breakGlassGroups.length > 0) parts.push(`break-glass group ${few(w.breakGlassGroups)}`);
  }
  return `may write it: ${parts.join('; ')}`;
}
