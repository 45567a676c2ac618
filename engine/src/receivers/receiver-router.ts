import { Router } from '@koa/router';
import type { Context } from 'koa';
import { Counter, type Registry } from 'prom-client';
import { readJsonBody } from '../core/http/bounded-body.js';
import { HttpError } from '../core/http/http-error.js';
import { serveHereOrForward, type LeaderView } from '../core/http/leader-gate.js';
import type { TokenAuthenticator } from '../observe/index.js';
import { takeVerdict, type IntakeResult, type VerdictIntakeDeps } from '../quarantine/index.js';
import { mapAlertmanagerNotification } from './alertmanager-payload.js';
import { mapFalcoEvent } from './falco-event.js';
import type { Mapped } from './pod-alert.js';

export const ALERTMANAGER_PATH = '/api/v1/receivers/alertmanager';
export const FALCOSIDEKICK_PATH = '/api/v1/receivers/falcosidekick';

/** Notifications being worked on at once; past it a receiver answers 503 + Retry-After (Alertmanager retries 5xx). */
export const MAX_IN_FLIGHT = 4;

export interface ReceiverDeps {
  authenticator: TokenAuthenticator;
  intake: VerdictIntakeDeps;
  /** Receivers are leader-only like the verdict API (ADR 1500). */
  leader?: LeaderView;
  /** Where `bulkhead_receiver_requests_total{receiver,outcome}` is registered. */
  registry?: Registry;
  /** Alertmanager groups many alerts in one body; Falcosidekick sends one event. */
  bodyLimitBytes?: { alertmanager: number; falcosidekick: number };
}

type Mapper = (body: unknown) => { ok: true; items: Mapped[] } | { ok: false; error: string };

/**
 * `POST /api/v1/receivers/alertmanager` (webhook_config) and
 * `POST /api/v1/receivers/falcosidekick` (webhook output): the tools users already run ask
 * for an action on a pod. Same gate, authentication and authorization as the verdict API
 * (ADR 1810): leader only; a bearer ServiceAccount token (TokenReview, audience `bulkhead`);
 * per pod, RBAC `create quarantines.bulkhead.dev` in its namespace (SubjectAccessReview),
 * then the one verdict intake (judging policy, grouping, budget, DryRun, audit).
 * Answers: 401/429 unauthenticated; 413/415/400/422 a body refused before anything is done;
 * 403 when every pod it names is refused by RBAC; otherwise 200 with one result per alert.
 */
export function createReceiverRouter(deps: ReceiverDeps): Router {
  const router = new Router();
  const limits = deps.bodyLimitBytes ?? { alertmanager: 1024 * 1024, falcosidekick: 64 * 1024 };
  let inFlight = 0;
  const requests = deps.registry
    ? new Counter({
        name: 'bulkhead_receiver_requests_total',
        help: 'Alertmanager/Falcosidekick receiver requests, by receiver and outcome',
        labelNames: ['receiver', 'outcome'],
        registers: [deps.registry],
      })
    : undefined;
  const mount = (path: string, receiver: 'alertmanager' | 'falcosidekick', limit: number, map: Mapper): void => {
    router.post(path, async (ctx) => {
      const count = (outcome: string): void => requests?.inc({ receiver, outcome });
      // Alertmanager and Falcosidekick do not follow a 421: a follower relays to the leader,
      // which authenticates the caller itself (ADR 1501); 421/503 only when it cannot.
      const elsewhere = await serveHereOrForward(ctx, deps.leader, `${receiver} receiver`);
      if (elsewhere) return count(elsewhere === 'forwarded' ? 'forwarded' : 'not_leader');
      const auth = await deps.authenticator.authenticate(ctx.get('authorization') || undefined, ctx.ip);
      if (!auth.ok) {
        if (auth.reason === 'throttled') ctx.set('Retry-After', String(auth.retryAfterSec ?? 1));
        ctx.status = auth.reason === 'throttled' ? 429 : 401;
        ctx.body = { error: 'unauthenticated', reason: auth.reason };
        return count(`unauthenticated_${auth.reason}`);
      }
      if (inFlight >= MAX_IN_FLIGHT) {
        ctx.set('Retry-After', '1');
        ctx.status = 503;
        ctx.body = { error: `${MAX_IN_FLIGHT} notifications already being handled; retry` };
        return count('busy');
      }
      inFlight++;
      try {
        await handle(ctx, limit, map, auth.identity, receiver, count);
      } finally {
        inFlight--;
      }
    });
  };

  async function handle(
    ctx: Context,
    limit: number,
    map: Mapper,
    caller: { username: string; groups: string[] },
    receiver: string,
    count: (o: string) => void,
  ): Promise<void> {
    let body: unknown;
    try {
      body = await readJsonBody(ctx.req, limit);
    } catch (err) {
      ctx.status = err instanceof HttpError ? err.status : 400;
      ctx.body = { error: err instanceof Error ? err.message : 'bad body' };
      return count('bad_body');
    }
    const mapped = map(body);
    if (!mapped.ok) {
      ctx.status = 422;
      ctx.body = { error: mapped.error };
      return count('invalid');
    }
    const results: ({ skipped: string } | ({ namespace: string; pod: string } & IntakeResult['body']))[] = [];
    let forbidden = 0;
    let taken = 0;
    for (const m of mapped.items) {
      if ('skipped' in m) {
        results.push({ skipped: m.skipped });
        continue;
      }
      taken++;
      const r = await takeVerdict(deps.intake, caller, m.verdict, { threat: m.threat, via: receiver });
      if (r.outcome === 'forbidden') forbidden++;
      results.push({ namespace: m.verdict.namespace, pod: m.verdict.pod, outcome: r.outcome, ...r.body });
    }
    // Refused outright only when RBAC refused every pod named: a notification naming pods in
    // several namespaces is served for those the caller may act in.
    ctx.status = taken > 0 && forbidden === taken ? 403 : 200;
    ctx.body = { results };
    count(ctx.status === 403 ? 'forbidden' : 'handled');
  }

  mount(ALERTMANAGER_PATH, 'alertmanager', limits.alertmanager, (b) => {
    const r = mapAlertmanagerNotification(b);
    return r.ok ? { ok: true, items: r.alerts } : r;
  });
  mount(FALCOSIDEKICK_PATH, 'falcosidekick', limits.falcosidekick, (b) => {
    const r = mapFalcoEvent(b);
    return r.ok ? { ok: true, items: [r.mapped] } : r;
  });
  return router;
}
