import { findCondition, setCondition, type Condition, type HealthPolicy } from '../core/api/index.js';

/** Field manager of what this writer owns in a HealthPolicy's status; lastAction, budget and SidecarInjection are others'. */
export const POLICY_STATUS_FIELD_MANAGER = 'bulkhead-status';
const INJECTION = 'SidecarInjection';

/** A HealthPolicy as the apiserver returns it (the generated type has only what git authors write). */
export type LivePolicy = HealthPolicy & {
  metadata: HealthPolicy['metadata'] & { generation?: number; uid?: string };
};

export interface PolicyFacts {
  /** Admission's last registration (policy name → generation registered), or undefined before the first. */
  registration?: { policies: ReadonlyMap<string, number>; error?: string };
  matchedPods: number;
  /** Where the policy was applied from, Flux-style (`main@sha1:<sha>`), when known. */
  sourceRevision?: string;
}

export interface OwnedStatus {
  observedGeneration: number;
  matchedPods: number;
  sourceRevision?: string;
  conditions: Condition[];
}

/**
 * A Git revision the way Flux prints it (pure): `<branch or tag>@sha1:<sha>`, or `sha1:<sha>`
 * for a pinned commit, so `kubectl get healthpolicies` and a Flux Kustomization read alike.
 */
export function fluxRevision(ref: { branch?: string; tag?: string; commit?: string } | undefined, sha: string): string {
  if (/^[a-z0-9]+:/.test(sha) || sha.includes('@')) return sha; // already qualified (sha256:…, main@sha1:…)
  const algo = sha.length === 64 ? 'sha256' : 'sha1';
  if (ref?.commit) return `${algo}:${sha}`;
  return `${ref?.tag ?? ref?.branch ?? 'main'}@${algo}:${sha}`;
}

/**
 * The status this writer owns for one policy (pure). Ready is kstatus-compatible: True once the
 * engine has accepted the current generation and the webhook configurations carry its rules,
 * Unknown while that is under way, False when registration failed or injection is paused; its
 * observedGeneration and status.observedGeneration say which generation it describes, so Flux's
 * `wait: true` and `kubectl wait --for=condition=Ready` prove the engine took this spec.
 * `changed` is false when the live object already says all of it (no write).
 */
export function policyStatus(
  policy: LivePolicy,
  facts: PolicyFacts,
  now: Date,
): { status: OwnedStatus; changed: boolean } {
  const gen = policy.metadata.generation ?? 0;
  const live = policy.status;
  const registered = facts.registration?.policies.get(policy.metadata.name);
  const paused = findCondition(live?.conditions, INJECTION);
  let ready: { status: Condition['status']; reason: string; message: string };
  if (registered === gen && paused?.status === 'False')
    ready = {
      status: 'False',
      reason: 'SidecarInjectionPaused',
      message: `accepted, but injection is paused: ${paused.message}`,
    };
  else if (registered === gen)
    ready = {
      status: 'True',
      reason: 'Accepted',
      message: `accepted generation ${gen}; sidecar injection rules registered`,
    };
  else if (facts.registration?.error)
    ready = {
      status: 'False',
      reason: 'RegistrationFailed',
      message: `generation ${gen} not registered with the apiserver: ${facts.registration.error}`,
    };
  else ready = { status: 'Unknown', reason: 'Registering', message: `registering generation ${gen}` };
  const conditions = setCondition(
    (live?.conditions ?? []).filter((c) => c.type === 'Ready'),
    { type: 'Ready', ...ready, observedGeneration: gen },
    now,
  );
  const status: OwnedStatus = {
    observedGeneration: gen,
    matchedPods: facts.matchedPods,
    ...(facts.sourceRevision ? { sourceRevision: facts.sourceRevision } : {}),
    conditions,
  };
  const before = findCondition(live?.conditions, 'Ready');
  const changed =
    !live ||
    live.observedGeneration !== gen ||
    live.matchedPods !== status.matchedPods ||
    (live.sourceRevision ?? undefined) !== status.sourceRevision ||
    before?.status !== ready.status ||
    before.reason !== ready.reason ||
    before.message !== ready.message ||
    before.observedGeneration !== gen;
  return { status, changed };
}
