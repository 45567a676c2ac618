import { Readable } from 'node:stream';
import { Router } from '@koa/router';
import type { Context } from 'koa';
import { API_VERSION } from '../core/api/index.js';
import { readJsonBody } from '../core/http/bounded-body.js';
import { HttpError } from '../core/http/http-error.js';
import { refuseUnlessLeader, serveHereOrForward, type LeaderView } from '../core/http/leader-gate.js';
import type { Logger } from '../core/logger.js';
import type { AuthResult, Identity, TokenAuthenticator } from './authenticator.js';
import type { Forwarder, ForwardTarget } from './forwarder.js';
import type { HealthStore, PodHealthWindow } from './health-store.js';
import type { IdentityRejections } from './identity-rejections.js';
import type { ObserveMetrics } from './metrics.js';
import type { RateLimiter } from './rate-limiter.js';
import type { ReadAuthorizer } from './read-authorizer.js';
import type { HealthReport } from './report.js';
import type { Validate } from './report-validator.js';
import { parseSince } from './since.js';

export interface ObserveRouteDeps {
  authenticator: TokenAuthenticator;
  readAuthorizer: ReadAuthorizer;
  store: HealthStore;
  /** Where reports about another pod are counted, against the token's pod (IdentityRejected). */
  identityRejections?: IdentityRejections;
  validate: Validate;
  rateLimiter: RateLimiter;
  metrics: ObserveMetrics;
  logger: Logger;
  forwarder?: Forwarder;
  /** The forward endpoints for a report (its policy's spec.forward, resolved). */
  forwardTargets?: (report: HealthReport) => readonly ForwardTarget[];
  /** Largest accepted report body (default 256 KiB: 1,000 samples fit). */
  bodyLimitBytes?: number;
  now?: () => number;
  /** Reports are served by the leader only (ADR 1500); absent: this process always serves them. */
  leader?: LeaderView;
}

export const REPORTS_PATH = '/api/v1/reports';
export const HEALTH_PATH = '/api/v1/health';

const problem = (
  ctx: Context,
  status: number,
  reason: string,
  message: string,
  extra: Record<string, unknown> = {},
): void => {
  ctx.status = status;
  ctx.body = { status, reason, message, ...extra };
};

/**
 * The observe stage's HTTP surface, mounted on the engine's HTTPS server:
 *   POST /api/v1/reports  sidecar reports. Order of checks, cheapest refusal first:
 *     not the leader (421 naming it, 503 while none is known) → authenticate (401; 429 past the
 *     TokenReview budget of the address) → pod-bound token (403) → per-pod rate limit (429) → body size (413)
 *     → schema (422, JSON pointers) → the report is about the token's own pod (403) → store
 *     + enqueue forwards (never awaited) → 202.
 *   GET /api/v1/health?namespace=&pod=&since=  the windows, JSON or NDJSON
 *     (Accept: application/x-ndjson); authenticated, and RBAC `get pods` in the namespace.
 *     On a follower, relayed to the leader, which holds the windows (ADR 1501).
 */
export function createObserveRouter(deps: ObserveRouteDeps): Router {
  const { metrics, logger } = deps;
  const limit = deps.bodyLimitBytes ?? 256 * 1024;
  const now = deps.now ?? Date.now;
  const router = new Router();

  const authenticate = async (ctx: Context): Promise<Identity | undefined> => {
    // The socket's address (koa's app.proxy is off): the key of the TokenReview budget.
    const auth: AuthResult = await deps.authenticator.authenticate(ctx.get('authorization') || undefined, ctx.ip);
    if (auth.ok) {
      metrics.authCache.inc({ result: auth.cached ? 'hit' : 'miss' });
      return auth.identity;
    }
    metrics.authFailures.inc({ reason: auth.reason });
    if (auth.reason === 'throttled') {
      ctx.set('Retry-After', String(auth.retryAfterSec ?? 1));
      problem(ctx, 429, 'TooManyRequests', 'too many tokens to review from this address; retry later');
      return undefined;
    }
    if (auth.reason === 'review_error') {
      // We could not ask the apiserver: not the client's fault, so it should retry.
      problem(ctx, 503, 'TokenReviewUnavailable', 'could not review the token; retry later');
      return undefined;
    }
    ctx.set('WWW-Authenticate', 'Bearer');
    problem(ctx, 401, 'Unauthorized', `authentication failed: ${auth.reason}`);
    return undefined;
  };

  router.post(REPORTS_PATH, async (ctx) => {
    const end = metrics.ingestSeconds.startTimer();
    try {
      // Counted by bulkhead_observe_requests_total{code="421"} in the finally below.
      if (refuseUnlessLeader(ctx, deps.leader, 'report ingest')) return;
      const who = await authenticate(ctx);
      if (!who) return;
      if (!who.pod) {
        metrics.forbidden.inc({ reason: 'not_pod_bound' });
        return problem(ctx, 403, 'Forbidden', 'reports need a token bound to the reporting pod');
      }
      if (!deps.rateLimiter.take(who.pod.uid)) {
        ctx.set('Retry-After', String(deps.rateLimiter.retryAfterSec(who.pod.uid)));
        return problem(ctx, 429, 'TooManyRequests', 'report rate limit exceeded for this pod');
      }
      let body: unknown;
      try {
        body = await readJsonBody(ctx.req, limit);
      } catch (err) {
        if (err instanceof HttpError)
          return problem(ctx, err.status, err.status === 413 ? 'PayloadTooLarge' : 'BadRequest', err.message);
        throw err;
      }
      const v = deps.validate(body);
      if (!v.ok)
        return problem(ctx, 422, 'Invalid', 'the report does not match schemas/healthreport.schema.json', {
          errors: v.problems,
        });
      const r = v.report;
      const p = who.pod;
      if (r.pod.uid !== p.uid || r.pod.name !== p.name || r.pod.namespace !== p.namespace) {
        // A pod may only speak for itself: this is what stops a compromised pod framing another.
        metrics.forbidden.inc({ reason: 'pod_mismatch' });
        deps.identityRejections?.record(p.uid, now());
        logger.warn(
          { token: { pod: `${p.namespace}/${p.name}` }, report: { pod: `${r.pod.namespace}/${r.pod.name}` } },
          'report about another pod refused',
        );
        return problem(
          ctx,
          403,
          'Forbidden',
          `this token may only report about pod ${p.namespace}/${p.name} (${p.uid})`,
        );
      }
      const res = deps.store.addReport(r);
      metrics.samples.inc({ result: 'stored' }, res.added);
      if (res.duplicates > 0) metrics.samples.inc({ result: 'duplicate' }, res.duplicates);
      if (res.droppedDelta > 0) {
        metrics.sidecarDropped.inc(res.droppedDelta);
        logger.warn(
          { pod: `${p.namespace}/${p.name}`, dropped: res.droppedDelta, total: r.dropped },
          'sidecar dropped samples while the engine was unreachable',
        );
      }
      if (res.gapsDelta > 0) metrics.gaps.inc(res.gapsDelta);
      metrics.pods.set(deps.store.size);
      metrics.evictions.set(deps.store.evictions);
      if (deps.forwarder && deps.forwardTargets) {
        const record = { receivedAt: new Date(now()).toISOString(), ...r };
        for (const t of deps.forwardTargets(r)) deps.forwarder.enqueue(t, record);
      }
      ctx.status = 202;
      ctx.body = { accepted: res.added, duplicates: res.duplicates };
    } finally {
      metrics.requests.inc({ route: 'reports', code: String(ctx.status) });
      end({ code: String(ctx.status) });
    }
  });

  router.get(HEALTH_PATH, async (ctx) => {
    try {
      // The windows live on the leader (reports go there): a follower relays the read (ADR 1501).
      if (await serveHereOrForward(ctx, deps.leader, 'health reads')) return;
      const who = await authenticate(ctx);
      if (!who) return;
      const q = ctx.query;
      const one = (k: string): string | undefined =>
        typeof q[k] === 'string' && q[k] !== '' ? (q[k] as string) : undefined;
      const namespace = one('namespace');
      const pod = one('pod');
      if (pod && !namespace) return problem(ctx, 400, 'BadRequest', 'pod needs namespace');
      let sinceMs = 0;
      const since = one('since');
      if (since) {
        const parsed = parseSince(since, now());
        if (parsed === undefined)
          return problem(ctx, 400, 'BadRequest', 'since must be an RFC 3339 time or a duration such as 5m');
        sinceMs = parsed;
      }
      if (!(await deps.readAuthorizer.canRead(who, namespace))) {
        metrics.forbidden.inc({ reason: 'rbac' });
        return problem(ctx, 403, 'Forbidden', `${who.username} may not get pods in ${namespace ?? 'all namespaces'}`);
      }
      const items = deps.store.scan({ ...(namespace ? { namespace } : {}), ...(pod ? { pod } : {}), sinceMs });
      const ndjson = one('format') === 'ndjson' || /application\/x-ndjson/.test(ctx.get('accept'));
      // Both formats stream pod by pod, so a read of every pod stays small in memory.
      ctx.type = ndjson ? 'application/x-ndjson' : 'application/json';
      ctx.body = Readable.from(ndjson ? ndjsonLines(items) : jsonList(items));
    } finally {
      metrics.requests.inc({ route: 'health', code: String(ctx.status) });
    }
  });

  return router;
}

/** `{"apiVersion":…,"kind":"HealthList","items":[…]}`, written one pod at a time. */
function* jsonList(items: Iterable<PodHealthWindow>): Generator<string> {
  yield `{"apiVersion":"${API_VERSION}","kind":"HealthList","items":[`;
  let first = true;
  for (const p of items) {
    yield `${first ? '' : ','}${JSON.stringify(p)}`;
    first = false;
  }
  yield ']}';
}

/** One line per sample and per event, each carrying its pod, oldest first within a pod. */
function* ndjsonLines(items: Iterable<PodHealthWindow>): Generator<string> {
  for (const p of items) {
    const pod = { namespace: p.namespace, pod: p.pod, uid: p.uid };
    for (const s of p.samples) yield `${JSON.stringify({ ...pod, kind: 'sample', ...s })}\n`;
    for (const e of p.events) yield `${JSON.stringify({ ...pod, kind: 'event', ...e })}\n`;
  }
}
