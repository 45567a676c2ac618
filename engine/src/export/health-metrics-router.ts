import { Router } from '@koa/router';
import type { LeaderView } from '../core/http/leader-gate.js';
import type { HealthStore, ReadAuthorizer, TokenAuthenticator } from '../observe/index.js';
import { healthExposition } from './health-series.js';

export const HEALTH_METRICS_PATH = '/api/v1/health/metrics';

export interface HealthMetricsDeps {
  authenticator: TokenAuthenticator;
  readAuthorizer: ReadAuthorizer;
  store: HealthStore;
  leader?: LeaderView;
  maxPods?: number;
}

/**
 * `GET /api/v1/health/metrics[?namespace=ns]`: the health store as Prometheus series, for a
 * Prometheus scrape on the HTTPS port (ADR 1811). Health data follows the read API's rule
 * (GET /api/v1/health): a bearer ServiceAccount token (TokenReview, audience `bulkhead`) whose
 * identity may `get pods` in the namespace, or in all namespaces when none is named. Every
 * replica answers with what it holds (only the leader ingests reports) and says whether it
 * leads, so scraping each replica never fails a target.
 */
export function createHealthMetricsRouter(deps: HealthMetricsDeps): Router {
  const router = new Router();
  router.get(HEALTH_METRICS_PATH, async (ctx) => {
    const auth = await deps.authenticator.authenticate(ctx.get('authorization') || undefined, ctx.ip);
    if (!auth.ok) {
      if (auth.reason === 'throttled') ctx.set('Retry-After', String(auth.retryAfterSec ?? 1));
      ctx.status = auth.reason === 'throttled' ? 429 : 401;
      ctx.body = { error: 'unauthenticated', reason: auth.reason };
      return;
    }
    const ns = typeof ctx.query.namespace === 'string' && ctx.query.namespace !== '' ? ctx.query.namespace : undefined;
    if (!(await deps.readAuthorizer.canRead(auth.identity, ns))) {
      ctx.status = 403;
      ctx.body = { error: `${auth.identity.username} may not get pods in ${ns ?? 'all namespaces'}` };
      return;
    }
    ctx.type = 'text/plain; version=0.0.4; charset=utf-8';
    ctx.body = healthExposition(deps.store.scan(ns ? { namespace: ns } : {}), {
      leader: deps.leader?.isLeader() ?? true,
      ...(deps.maxPods ? { maxPods: deps.maxPods } : {}),
    });
  });
  return router;
}
