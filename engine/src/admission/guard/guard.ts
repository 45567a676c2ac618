import { GROUP } from '../../core/api/index.js';
import type { AdmissionRequest } from '../review.js';

/**
 * The GitOps guard, pure: who may write Bulkhead's own objects. HealthPolicy and PolicySource
 * come from git, so only the engine (which applies git) and the break-glass group may write
 * them; Quarantine is the engine's record of what it did, so only the engine writes it.
 * Reads never reach a validating webhook, so `kubectl get` keeps working.
 */
/** Annotations apply stamps on the objects it applies: where in git they come from. */
export const SOURCE_ANNOTATIONS = {
  repo: 'bulkhead.dev/source-repo',
  path: 'bulkhead.dev/source-path',
} as const;

export interface GuardConfig {
  /** Usernames of the engine, e.g. system:serviceaccount:<engine namespace>:bulkhead. */
  engineUsernames: readonly string[];
  /** Members of any of these groups may write while the switch is off (break-glass group). */
  breakGlassGroups: readonly string[];
  /**
   * Deletes by these users are allowed on every guarded kind: the namespace controller and the
   * garbage collector must be able to clean up, or a namespace never finishes terminating.
   */
  cleanupUsernames?: readonly string[];
  /** Named in the message when the object carries no source annotations. */
  defaultSource?: { repo: string; path: string };
}

export const DEFAULT_CLEANUP_USERNAMES = [
  'system:serviceaccount:kube-system:namespace-controller',
  'system:serviceaccount:kube-system:generic-garbage-collector',
];

export interface GuardState {
  /** `bulkhead break-glass on`: everyone may write, the guard only logs. */
  breakGlass: boolean;
}

export interface GuardDecision {
  allowed: boolean;
  /** CamelCase, for the admission status and the log. */
  reason: 'NotGuarded' | 'Engine' | 'BreakGlassGroup' | 'BreakGlassOn' | 'Cleanup' | 'ManagedInGit' | 'EngineOnly';
  message: string;
}

type GuardedKind = 'HealthPolicy' | 'PolicySource' | 'Quarantine';
const GUARDED: ReadonlySet<string> = new Set<GuardedKind>(['HealthPolicy', 'PolicySource', 'Quarantine']);

export function decideGuard(req: AdmissionRequest, cfg: GuardConfig, state: GuardState): GuardDecision {
  const kind = req.kind.kind;
  if (req.kind.group !== GROUP || !GUARDED.has(kind) || req.operation === 'CONNECT') {
    return { allowed: true, reason: 'NotGuarded', message: `${req.kind.group}/${kind} is not guarded` };
  }
  const user = req.userInfo.username ?? '';
  const groups = req.userInfo.groups ?? [];
  if (cfg.engineUsernames.includes(user)) return { allowed: true, reason: 'Engine', message: `${user} is the engine` };
  if (req.operation === 'DELETE' && (cfg.cleanupUsernames ?? DEFAULT_CLEANUP_USERNAMES).includes(user)) {
    return { allowed: true, reason: 'Cleanup', message: `${user} cleans up deleted namespaces and owners` };
  }
  if (state.breakGlass) return { allowed: true, reason: 'BreakGlassOn', message: 'break-glass is on: guard suspended' };
  if (kind !== 'Quarantine') {
    const group = groups.find((g) => cfg.breakGlassGroups.includes(g));
    if (group)
      return { allowed: true, reason: 'BreakGlassGroup', message: `${user} is in the break-glass group ${group}` };
  }
  const target = `${kind} ${req.namespace ? `${req.namespace}/` : ''}${req.name ?? objectName(req) ?? ''}`.trim();
  if (kind === 'Quarantine') {
    return {
      allowed: false,
      reason: 'EngineOnly',
      message: `${target} is written only by the Bulkhead engine; to release a pod, revert its record in git`,
    };
  }
  const src = sourceOf(req, kind as GuardedKind, cfg);
  return {
    allowed: false,
    reason: 'ManagedInGit',
    message: `managed in git: ${src.repo} ${src.path}; change it there`,
  };
}

function objectName(req: AdmissionRequest): string | undefined {
  const obj = (req.object ?? req.oldObject) as { metadata?: { name?: string } } | undefined | null;
  return obj?.metadata?.name;
}

function sourceOf(req: AdmissionRequest, kind: GuardedKind, cfg: GuardConfig): { repo: string; path: string } {
  // The stored object says where it came from; a CREATE only has the new one.
  const obj = (req.oldObject ?? req.object) as
    { metadata?: { annotations?: Record<string, string> }; spec?: { url?: string; path?: string } } | null | undefined;
  const ann = obj?.metadata?.annotations ?? {};
  const repo =
    ann[SOURCE_ANNOTATIONS.repo] ??
    (kind === 'PolicySource' ? obj?.spec?.url : undefined) ??
    cfg.defaultSource?.repo ??
    '<policy repository>';
  // The denial goes to whoever was denied: a URL's userinfo never goes with it (ADR 1413).
  const shown = repo.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1');
  const path =
    ann[SOURCE_ANNOTATIONS.path] ??
    (kind === 'PolicySource' ? obj?.spec?.path : undefined) ??
    cfg.defaultSource?.path ??
    'policies/';
  return { repo: shown, path };
}
