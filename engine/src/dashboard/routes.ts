import { Router } from '@koa/router';
import type { Context, Next } from 'koa';
import { Counter, type Registry } from 'prom-client';
import { serveHereOrForward, type LeaderView } from '../core/http/leader-gate.js';
import type { KubeClient } from '../core/kube/client.js';
import type { Logger } from '../core/logger.js';
import type { HealthStore } from '../observe/index.js';
import { decideAuth } from './auth.js';
import { DEFAULT_LIMITS, Memo, readClusterLists, type ClusterLists, type ListLimits } from './cluster-lists.js';
import { APP_JS, INDEX_HTML, STYLE_CSS } from './generated/page-assets.js';
import { buildSnapshot, MAX_PAGE_SIZE } from './snapshot.js';
import { buildTimeline } from './timeline.js';
import { normalizeToken } from './token-file.js';

export const DASHBOARD_PREFIX = '/dashboard';

export interface DashboardDeps {
  /** Reads PolicySources, HealthPolicies and Quarantines (the engine's own client and RBAC). */
  client: KubeClient;
  /** The observe stage's in-memory health windows. */
  store: HealthStore;
  /** The bearer token that opens the dashboard (surrounding whitespace of a token file is ignored). */
  token: string;
  logger: Logger;
  now?: () => number;
  /** Counters `bulkhead_dashboard_requests_total` and `bulkhead_dashboard_list_errors_total` when given. */
  registry?: Registry;
  /** How long one read of the cluster lists and of the pod summaries is shared (default 1 s). */
  refreshMs?: number;
  /** Width of a pod's timeline (default 10 min). */
  timelineWindowMs?: number;
  /** Samples newer than this give a pod's state in the pod list (default 15 s: the walk of all windows stays cheap). */
  recentMs?: number;
  /** A pod whose last report is older than this is Stale (default 60 s). */
  staleAfterMs?: number;
  limits?: ListLimits;
  /** The health windows live on the leader: a follower relays its data API there (ADR 1501). */
  leader?: LeaderView;
}

/**
 * Content-Security-Policy: scripts and styles only from our own origin (no inline script or
 * style, no eval), no plugins, no framing, and the page may only talk to the engine.
 */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const one = (v: string | string[] | undefined): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;
const int = (v: string | undefined, dflt: number, max: number): number => {
  const n = v === undefined ? NaN : Number.parseInt(v, 10);
  return Number.isFinite(n) && n >= 1 ? Math.min(n, max) : dflt;
};

/**
 * The dashboard: a read-only page and its JSON API, mounted under /dashboard.
 *   GET /dashboard/               the page (static HTML; app.js and style.css beside it)
 *   GET /dashboard/api/snapshot   sources, policies, quarantines and one page of pods
 *                                 (?namespace=&q=&page=&pageSize=, at most 100 pods a page)
 *   GET /dashboard/api/timeline   one pod's health timeline (?uid=)
 * Every route needs the token: `Authorization: Bearer`, the session cookie, or `?token=`
 * once (sets the cookie, then a redirect drops it from the URL). Nothing here writes.
 */
export function createDashboardRouter(deps: DashboardDeps): Router {
  const token = normalizeToken(deps.token);
  const now = deps.now ?? Date.now;
  const refreshMs = deps.refreshMs ?? 1_000;
  const windowMs = deps.timelineWindowMs ?? 10 * 60_000;
  const recentMs = deps.recentMs ?? 15_000;
  const staleAfterMs = deps.staleAfterMs ?? 60_000;
  const { logger, store } = deps;
  const requests = deps.registry
    ? new Counter({
        name: 'bulkhead_dashboard_requests_total',
        help: 'Dashboard requests by route and status code',
        labelNames: ['route', 'code'] as const,
        registers: [deps.registry],
      })
    : undefined;
  const listErrors = deps.registry
    ? new Counter({
        name: 'bulkhead_dashboard_list_errors_total',
        help: 'Dashboard reads of a cluster list that failed',
        labelNames: ['resource'] as const,
        registers: [deps.registry],
      })
    : undefined;

  let lastErrors = '';
  const lists = new Memo<ClusterLists>(
    async () => {
      const l = await readClusterLists(deps.client, deps.limits ?? DEFAULT_LIMITS);
      const errs = (['sources', 'policies', 'quarantines'] as const).filter((k) => l[k].error);
      for (const k of errs) listErrors?.inc({ resource: k });
      // Log on change only: a viewer polling every 2 s must not repeat the same line forever.
      const sig = errs.map((k) => `${k}: ${l[k].error}`).join('\n');
      if (sig !== lastErrors) {
        if (sig)
          logger.warn(
            { errors: errs.map((k) => ({ list: k, error: l[k].error })) },
            'dashboard: cannot read some cluster lists',
          );
        else if (lastErrors) logger.info('dashboard: cluster lists readable again');
        lastErrors = sig;
      }
      return l;
    },
    refreshMs,
    now,
  );
  // The store walk is shared too: with 10,000 pods it is the costly part of a snapshot (tens
  // of ms), so it is redone at most every 10 × its own cost: ≤ 10 % of the engine's time.
  const recentPods = new Memo(async () => store.query({ sinceMs: now() - recentMs }), refreshMs, now, 10);

  const router = new Router({ prefix: DASHBOARD_PREFIX });

  // `route` is a fixed name per route, never the request path: metric labels stay bounded.
  const guard =
    (route: string) =>
    async (ctx: Context, next: Next): Promise<void> => {
      ctx.set('Content-Security-Policy', CSP);
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('X-Frame-Options', 'DENY');
      ctx.set('Referrer-Policy', 'no-referrer');
      ctx.set('Cache-Control', 'no-store');
      try {
        const auth = decideAuth(
          {
            path: ctx.path,
            querystring: ctx.querystring,
            authorization: ctx.get('authorization') || undefined,
            cookie: ctx.get('cookie') || undefined,
            secure: ctx.secure,
          },
          token,
        );
        if (!auth.ok) {
          // The reason only: never the presented value.
          logger.debug({ path: ctx.path, reason: auth.reason }, 'dashboard: unauthorized');
          ctx.status = 401;
          ctx.set('WWW-Authenticate', 'Bearer realm="bulkhead-dashboard"');
          if (route.startsWith('api/'))
            ctx.body = {
              status: 401,
              reason: 'Unauthorized',
              message: 'open the dashboard with its token (?token=…) or send Authorization: Bearer',
            };
          else {
            ctx.type = 'text/plain';
            ctx.body =
              'Unauthorized: open the dashboard link that carries ?token=… (printed by the engine), or send Authorization: Bearer.\n';
          }
          return;
        }
        if (auth.via === 'query') {
          ctx.set('Set-Cookie', auth.setCookie);
          ctx.status = 303;
          ctx.set('Location', auth.location);
          ctx.body = '';
          return;
        }
        await next();
      } finally {
        requests?.inc({ route, code: String(ctx.status) });
      }
    };

  const asset = (type: string, body: string) => (ctx: Context) => {
    ctx.type = type;
    ctx.body = body;
  };

  router.get('/', guard('page'), (ctx) => {
    // The page uses relative URLs (works behind a path-prefixing proxy), so it must live at /dashboard/.
    if (!ctx.path.endsWith('/')) {
      ctx.status = 301;
      ctx.set('Location', `${DASHBOARD_PREFIX.slice(1)}/${ctx.querystring ? `?${ctx.querystring}` : ''}`);
      return;
    }
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = INDEX_HTML;
  });
  router.get('/app.js', guard('asset'), asset('application/javascript; charset=utf-8', APP_JS));
  router.get('/style.css', guard('asset'), asset('text/css; charset=utf-8', STYLE_CSS));

  // Whichever replica answers, the data is the leader's: a follower relays the (authenticated)
  // data API to it; the page and its assets are the same everywhere and served locally.
  const fromLeader = async (ctx: Context, next: Next): Promise<void> => {
    if (!(await serveHereOrForward(ctx, deps.leader, 'dashboard data'))) await next();
  };

  router.get('/api/snapshot', guard('api/snapshot'), fromLeader, async (ctx) => {
    const q = ctx.query;
    const namespace = one(q.namespace);
    const filter = one(q.q)?.slice(0, 253);
    const [l, pods] = await Promise.all([lists.get(), recentPods.get()]);
    ctx.body = buildSnapshot({
      now: now(),
      ...l,
      pods,
      query: {
        ...(namespace ? { namespace } : {}),
        ...(filter ? { q: filter } : {}),
        page: int(one(q.page), 1, 100_000),
        pageSize: int(one(q.pageSize), 20, MAX_PAGE_SIZE),
      },
      recentMs,
      staleAfterMs,
    });
  });

  router.get('/api/timeline', guard('api/timeline'), fromLeader, (ctx) => {
    const uid = one(ctx.query.uid);
    if (!uid || uid.length > 64) {
      ctx.status = 400;
      ctx.body = { status: 400, reason: 'BadRequest', message: 'uid is required' };
      return;
    }
    const t = now();
    const h = store.get(uid, t - windowMs);
    if (!h) {
      // A normal answer, not a 404: a quarantined pod may have reported before a restart or a
      // takeover, and a browser logs every failed fetch as a console error.
      ctx.body = { uid, missing: true, message: 'no health data for this pod in memory' };
      return;
    }
    ctx.body = buildTimeline(h, t, windowMs);
  });

  return router;
}
