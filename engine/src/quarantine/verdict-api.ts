import { Router } from '@koa/router';
import type { Counter } from 'prom-client';
import type { HealthPolicy } from '../core/api/index.js';
import { readJsonBody } from '../core/http/bounded-body.js';
import { HttpError } from '../core/http/http-error.js';
import { serveHereOrForward, type LeaderView } from '../core/http/leader-gate.js';
import type { KubeClient } from '../core/kube/client.js';
import type { Logger } from '../core/logger.js';
import type { TokenAuthenticator } from '../observe/index.js';
import { SEVERITY, type PodHealth, type Signal } from '../analytics/index.js';
import { namespaceLabelsReader } from './judging-policy.js';
import { takeVerdict, type ExternalVerdict } from './verdict-intake.js';

export { capAction, type ExternalVerdict } from './verdict-intake.js';

export const VERDICTS_PATH = '/api/v1/verdicts';

export interface VerdictApiDeps {
  authenticator: TokenAuthenticator;
  client: KubeClient;
  /** The evaluator's entry for outside signals: same grouping, budget, DryRun and audit. */
  submit(pod: PodHealth, signals: Signal[], policy: HealthPolicy): void;
  policy(name: string): HealthPolicy | undefined;
  /** Namespace labels, for a policy's namespaceSelector (default: read through deps.client). */
  namespaceLabels?: (namespace: string) => Promise<Readonly<Record<string, string>>>;
  /** The injector's always-excluded namespaces: no verdict acts on a pod there. */
  excludedNamespaces: ReadonlySet<string>;
  logger: Logger;
  requests?: Counter<'outcome'>;
  bodyLimitBytes?: number;
  now?: () => Date;
  /** Only the leader executes verdicts: a follower forwards to it (ADR 1501), or answers 421/503, never a 202 it drops. */
  leader?: LeaderView;
}

type Problem = { pointer: string; message: string };

/** Validation (pure): the body's shape, with a JSON pointer per problem. */
export function validateVerdict(
  body: unknown,
): { ok: true; verdict: ExternalVerdict } | { ok: false; problems: Problem[] } {
  const problems: Problem[] = [];
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, problems: [{ pointer: '', message: 'must be a JSON object' }] };
  const known = new Set(['namespace', 'pod', 'uid', 'action', 'reason', 'message', 'policy', 'evidence']);
  for (const k of Object.keys(b)) if (!known.has(k)) problems.push({ pointer: `/${k}`, message: 'unknown field' });
  const dns = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
  if (typeof b.namespace !== 'string' || b.namespace.length > 63 || !dns.test(b.namespace))
    problems.push({ pointer: '/namespace', message: 'must be a namespace name' });
  if (typeof b.pod !== 'string' || b.pod.length > 253 || !dns.test(b.pod))
    problems.push({ pointer: '/pod', message: 'must be a pod name' });
  if (b.uid !== undefined && (typeof b.uid !== 'string' || b.uid.length > 64))
    problems.push({ pointer: '/uid', message: 'must be a pod uid' });
  if (b.action !== undefined && !(typeof b.action === 'string' && b.action in SEVERITY))
    problems.push({ pointer: '/action', message: 'must be one of Quarantine, Isolate, Restart, Alert' });
  if (typeof b.reason !== 'string' || !/^[A-Z][A-Za-z0-9]{0,62}$/.test(b.reason))
    problems.push({ pointer: '/reason', message: 'must be CamelCase, at most 63 characters' });
  if (b.message !== undefined && (typeof b.message !== 'string' || b.message.length > 1024))
    problems.push({ pointer: '/message', message: 'must be a string of at most 1024 characters' });
  if (b.policy !== undefined && (typeof b.policy !== 'string' || b.policy.length > 253))
    problems.push({ pointer: '/policy', message: 'must be a policy name' });
  if (b.evidence !== undefined) {
    if (!Array.isArray(b.evidence) || b.evidence.length > 20)
      problems.push({ pointer: '/evidence', message: 'must be an array of at most 20 items' });
    else
      b.evidence.forEach((e: unknown, i) => {
        const ev = (e ?? {}) as Record<string, unknown>;
        if (typeof ev.detail !== 'string' || ev.detail.length > 1024)
          problems.push({ pointer: `/evidence/${i}/detail`, message: 'must be a string of at most 1024 characters' });
        if (ev.value !== undefined && typeof ev.value !== 'number')
          problems.push({ pointer: `/evidence/${i}/value`, message: 'must be a number' });
        if (ev.time !== undefined && (typeof ev.time !== 'string' || Number.isNaN(Date.parse(ev.time))))
          problems.push({ pointer: `/evidence/${i}/time`, message: 'must be an RFC 3339 time' });
      });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, verdict: b as unknown as ExternalVerdict };
}

/**
 * `POST /api/v1/verdicts`: an independent analytics engine asks for an action on a pod. The
 * caller is who its ServiceAccount token says (TokenReview) and must be allowed by RBAC to
 * create quarantines.bulkhead.dev in the pod's namespace (SubjectAccessReview): the same
 * permission a human would need. Accepted verdicts join the built-in detectors' path.
 */
export function createVerdictRouter(deps: VerdictApiDeps): Router {
  const router = new Router();
  const count = (outcome: string): void => deps.requests?.inc({ outcome });
  const namespaceLabels = deps.namespaceLabels ?? namespaceLabelsReader(deps.client);
  router.post(VERDICTS_PATH, async (ctx) => {
    // A follower relays the verdict to the leader, which authenticates the caller itself (ADR 1501).
    const elsewhere = await serveHereOrForward(ctx, deps.leader, 'verdicts');
    if (elsewhere) {
      count(elsewhere === 'forwarded' ? 'forwarded' : 'not_leader');
      return;
    }
    const auth = await deps.authenticator.authenticate(ctx.get('authorization') || undefined, ctx.ip);
    if (!auth.ok) {
      count(`unauthenticated_${auth.reason}`);
      if (auth.reason === 'throttled') ctx.set('Retry-After', String(auth.retryAfterSec ?? 1));
      ctx.status = auth.reason === 'throttled' ? 429 : 401;
      ctx.body = { error: 'unauthenticated', reason: auth.reason };
      return;
    }
    let body: unknown;
    try {
      body = await readJsonBody(ctx.req, deps.bodyLimitBytes ?? 64 * 1024);
    } catch (err) {
      count('bad_body');
      ctx.status = err instanceof HttpError ? err.status : 400;
      ctx.body = { error: err instanceof Error ? err.message : 'bad body' };
      return;
    }
    const v = validateVerdict(body);
    if (!v.ok) {
      count('invalid');
      ctx.status = 422;
      ctx.body = { error: 'invalid verdict', problems: v.problems };
      return;
    }
    const r = await takeVerdict({ ...deps, namespaceLabels }, auth.identity, v.verdict);
    ctx.status = r.status;
    ctx.body = r.body;
  });
  return router;
}
