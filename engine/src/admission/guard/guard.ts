import { ANNOTATION, GROUP } from '../../core/api/index.js';
import type { AdmissionRequest } from '../review.js';
import { DEFAULT_CLEANUP_USERNAMES, writersSentence, type GuardWriters } from './writers.js';

export { DEFAULT_CLEANUP_USERNAMES } from './writers.js';

/**
 * The GitOps guard, pure: who may write Bulkhead's own objects. HealthPolicy and PolicySource
 * come from git, so only the engine, the GitOps tools that apply git (`gitopsWriters`) and the
 * break-glass group may write them; Quarantine is the engine's record of what it did, so only
 * the engine writes it. Reads never reach a validating webhook, so `kubectl get` keeps working.
 * The lists are the ones the webhook's matchConditions exclude (writers.ts, ADR 1600).
 */
/** Annotations apply stamps on the objects it applies: where in git they come from. */
export const SOURCE_ANNOTATIONS = {
  repo: ANNOTATION.sourceRepo,
  path: 'bulkhead.dev/source-path',
} as const;

/** Labels and annotations GitOps tools put on what they apply: who applied the object. */
const FLUX_LABELS = { name: 'kustomize.toolkit.fluxcd.io/name', namespace: 'kustomize.toolkit.fluxcd.io/namespace' };
const ARGO_TRACKING = 'argocd.argoproj.io/tracking-id';

export interface GuardConfig extends GuardWriters {
  /** Named in the message when the object carries no source annotations. */
  defaultSource?: { repo: string; path: string };
}

export interface GuardState {
  /** `bulkhead break-glass on`: everyone may write, the guard only logs. */
  breakGlass: boolean;
  /** The engine's PolicySource, when the object names none (looked up only for a denial). */
  defaultSource?: { repo: string; path: string };
}

export interface GuardDecision {
  allowed: boolean;
  /** CamelCase, for the admission status and the log. */
  reason:
    | 'NotGuarded'
    | 'Engine'
    | 'GitOpsWriter'
    | 'BreakGlassGroup'
    | 'BreakGlassOn'
    | 'Cleanup'
    | 'ManagedInGit'
    | 'EngineOnly'
    | 'StatusIsEngines';
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
  const target = `${kind} ${req.namespace ? `${req.namespace}/` : ''}${req.name ?? objectName(req) ?? ''}`.trim();
  if (kind !== 'Quarantine') {
    const group = groups.find((g) => cfg.breakGlassGroups.includes(g));
    if (group)
      return { allowed: true, reason: 'BreakGlassGroup', message: `${user} is in the break-glass group ${group}` };
    if ((cfg.gitopsWriters ?? []).includes(user)) {
      if (!req.subResource) return { allowed: true, reason: 'GitOpsWriter', message: `${user} is a GitOps writer` };
      return {
        allowed: false,
        reason: 'StatusIsEngines',
        message: `${target} ${req.subResource} is written only by the Bulkhead engine; GitOps writers apply the object itself`,
      };
    }
  }
  if (kind === 'Quarantine') {
    return {
      allowed: false,
      reason: 'EngineOnly',
      message: `${target} is written only by the Bulkhead engine; to release a pod, revert its record in git; ${writersSentence(cfg, 'Quarantine')}`,
    };
  }
  const src = sourceOf(req, kind as GuardedKind, cfg, state);
  const where = src.repo ? `: ${[src.repo, src.path].filter(Boolean).join(' ')}` : '';
  const by = src.appliedBy ? ` (applied by ${src.appliedBy})` : '';
  const unknown = !src.repo && !src.appliedBy ? ' (the object names no source repository)' : '';
  return {
    allowed: false,
    reason: 'ManagedInGit',
    message: `managed in git${where}${by}${unknown}; change it there; ${writersSentence(cfg, kind as GuardedKind)}`,
  };
}

function objectName(req: AdmissionRequest): string | undefined {
  const obj = (req.object ?? req.oldObject) as { metadata?: { name?: string } } | undefined | null;
  return obj?.metadata?.name;
}

interface Source {
  repo?: string;
  path?: string;
  appliedBy?: string;
}

type Meta = {
  metadata?: { annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: { url?: string; path?: string };
};

/**
 * Where the object comes from: its source annotations (the engine's apply and `bulkhead render
 * --source-repo` stamp them), a PolicySource's own spec, else the engine's PolicySource; and
 * which GitOps tool applied it (Flux's kustomize labels, Argo CD's tracking annotation).
 */
function sourceOf(req: AdmissionRequest, kind: GuardedKind, cfg: GuardConfig, state: GuardState): Source {
  // The stored object says where it came from; a CREATE only has the new one.
  const obj = (req.oldObject ?? req.object) as Meta | null | undefined;
  const ann = obj?.metadata?.annotations ?? {};
  const labels = obj?.metadata?.labels ?? {};
  let appliedBy: string | undefined;
  if (labels[FLUX_LABELS.name])
    appliedBy = `Flux Kustomization ${labels[FLUX_LABELS.namespace] ? `${labels[FLUX_LABELS.namespace]}/` : ''}${labels[FLUX_LABELS.name]}`;
  else if (ann[ARGO_TRACKING]) appliedBy = `Argo CD Application ${ann[ARGO_TRACKING].split(':')[0]}`;
  // A GitOps tool applied it from its own repository: neither the engine's PolicySource nor a
  // PolicySource's spec.url (the repository it syncs) is where this object is kept.
  const fallback = appliedBy ? undefined : (state.defaultSource ?? cfg.defaultSource);
  const own = kind === 'PolicySource' && !appliedBy ? obj?.spec : undefined;
  const named = ann[SOURCE_ANNOTATIONS.repo] ?? own?.url ?? fallback?.repo;
  // The denial goes to whoever was denied: a URL's userinfo never goes with it (ADR 1413).
  const repo = named?.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1');
  // bulkhead.dev/source is `<file>:<line>` inside the repository.
  const path =
    ann[SOURCE_ANNOTATIONS.path] ??
    ann[ANNOTATION.source]?.replace(/:\d+$/, '') ??
    own?.path ??
    (ann[SOURCE_ANNOTATIONS.repo] ? undefined : fallback?.path);
  return { ...(repo ? { repo } : {}), ...(path ? { path } : {}), ...(appliedBy ? { appliedBy } : {}) };
}
