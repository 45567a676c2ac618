import type { Router } from '@koa/router';
import Koa from 'koa';
import type { Registry } from 'prom-client';
import { errorMessage } from '../core/errors.js';
import { readBoundedBody } from '../core/http/bounded-body.js';
import { HttpError } from '../core/http/http-error.js';
import type { Logger } from '../core/logger.js';
import { createAdmissionMetrics, type AdmissionMetrics, type Endpoint, type AdmissionOutcome } from './metrics.js';
import {
  deny,
  allow,
  parseAdmissionReview,
  reviewResponse,
  ReviewError,
  type AdmissionRequest,
  type AdmissionResponse,
} from './review.js';

/** A pure-ish processor: AdmissionRequest in, AdmissionResponse out (plus the outcome label). */
export type Processor = (req: AdmissionRequest) => Promise<Processed> | Processed;
export interface Processed {
  response: AdmissionResponse;
  outcome: AdmissionOutcome;
  /** Short text for the log line: why patched, why unchanged, why denied. */
  note?: string;
}

export interface AdmissionAppDeps {
  logger: Logger;
  registry: Registry;
  mutate: Processor;
  validate: Processor;
  /** Largest accepted body; the apiserver's own limit for an object is ~1.5 MiB, a review holds two. */
  maxBodyBytes?: number;
  /** Serve the registry at GET /metrics (the standalone server does; the engine mounts its own). */
  exposeMetrics?: boolean;
  /** Other routes served on the same HTTPS port (the engine's report ingest and verdict API). */
  extraRouters?: Router[];
}

export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The admission app: POST /mutate and POST /validate, AdmissionReview v1 in and out.
 * Per request: timer → parse → processor → envelope → log + metric. Malformed input is a
 * 400 (413 when too big) with a plain message; an internal error allows the pod unchanged on
 * /mutate (fail open, counted) and denies on /validate (fail closed).
 */
export function createAdmissionApp(deps: AdmissionAppDeps): Koa {
  const metrics = createAdmissionMetrics(deps.registry);
  const maxBody = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const app = new Koa();
  app.silent = true;
  const routes: Record<string, { endpoint: Endpoint; processor: Processor }> = {
    '/mutate': { endpoint: 'mutate', processor: deps.mutate },
    '/validate': { endpoint: 'validate', processor: deps.validate },
  };

  // Mounted first: a router passes requests it has no route for on to the admission handler.
  for (const r of deps.extraRouters ?? []) app.use(r.routes()).use(r.allowedMethods());
  app.use(async (ctx) => {
    const route = routes[ctx.path];
    if (!route) {
      if (ctx.method === 'GET' && ctx.path === '/healthz') {
        ctx.body = 'ok';
        return;
      }
      if (ctx.method === 'GET' && ctx.path === '/metrics' && deps.exposeMetrics) {
        ctx.type = deps.registry.contentType;
        ctx.body = await deps.registry.metrics();
        return;
      }
      ctx.status = 404;
      ctx.body = { error: `no route ${ctx.method} ${ctx.path}` };
      return;
    }
    if (ctx.method !== 'POST') {
      ctx.status = 405;
      ctx.set('Allow', 'POST');
      ctx.body = { error: `${ctx.path} takes POST` };
      return;
    }
    const start = process.hrtime.bigint();
    const { endpoint, processor } = route;
    let outcome: AdmissionOutcome = 'bad_request';
    let request: AdmissionRequest | undefined;
    let note: string | undefined;
    try {
      const body = await readBoundedBody(ctx.req, maxBody);
      if (body.length === 0) throw new ReviewError('empty body: POST an AdmissionReview');
      request = parseAdmissionReview(body);
      const processed = await runProcessor(processor, request, endpoint, metrics, deps.logger);
      outcome = processed.outcome;
      note = processed.note;
      ctx.body = reviewResponse(processed.response);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      ctx.status = status;
      if (status === 413) ctx.set('Connection', 'close');
      ctx.body = { error: errorMessage(err) };
      note = ctx.body.error;
    } finally {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      metrics.duration.observe({ endpoint, outcome }, seconds);
      log(deps.logger, endpoint, outcome, request, seconds, note);
    }
  });
  return app;
}

async function runProcessor(
  processor: Processor,
  request: AdmissionRequest,
  endpoint: Endpoint,
  metrics: AdmissionMetrics,
  logger: Logger,
): Promise<Processed> {
  try {
    return await processor(request);
  } catch (err) {
    const message = errorMessage(err);
    logger.error({ err, uid: request.uid, endpoint }, 'admission processor failed');
    if (endpoint === 'mutate') {
      metrics.mutateErrors.inc();
      // Fail open: a pod without a monitor is better than no pod.
      return {
        outcome: 'error',
        response: allow(request.uid, { warnings: [`bulkhead: sidecar not injected (internal error: ${message})`] }),
        note: message,
      };
    }
    // Fail closed: the guard never lets a write through because it broke.
    return {
      outcome: 'error',
      response: deny(request.uid, 500, 'InternalError', `bulkhead guard failed, write denied: ${message}`),
      note: message,
    };
  }
}

function log(
  logger: Logger,
  endpoint: Endpoint,
  outcome: AdmissionOutcome,
  req: AdmissionRequest | undefined,
  seconds: number,
  note: string | undefined,
): void {
  const level =
    outcome === 'error'
      ? 'warn'
      : outcome === 'patched' || outcome === 'denied' || outcome === 'bad_request'
        ? 'info'
        : 'debug';
  if (!logger.isLevelEnabled(level)) return;
  const name = req
    ? (req.name ??
      (req.object as { metadata?: { name?: string; generateName?: string } } | undefined)?.metadata?.generateName)
    : undefined;
  logger[level](
    {
      endpoint,
      outcome,
      ms: Math.round(seconds * 1e5) / 100,
      ...(req
        ? {
            uid: req.uid,
            namespace: req.namespace,
            name,
            kind: req.kind.kind,
            operation: req.operation,
            user: req.userInfo.username,
          }
        : {}),
      ...(note ? { note } : {}),
    },
    'admission',
  );
}
