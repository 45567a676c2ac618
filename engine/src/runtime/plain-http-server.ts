import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Router } from '@koa/router';
import Koa from 'koa';
import type { Registry } from 'prom-client';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

export interface EngineHttpOptions {
  logger: Logger;
  registry: Registry;
  /** Liveness: the event loop answers. */
  healthy?: () => boolean;
  /** Readiness, with the reason when not ready. */
  ready: () => { ready: boolean; reason?: string };
  /** Routers of the stages (git hooks, and later admission, observe, dashboard). */
  routers: Router[];
}

/**
 * The engine's plain-HTTP endpoint: /healthz, /readyz, /metrics and whatever routers the
 * stages mount. Middleware order: log → error handler → routes, so the log line sees the
 * final status.
 */
export function createEngineApp(opts: EngineHttpOptions): Koa {
  const app = new Koa();
  app.use(async (ctx, next) => {
    const t = performance.now();
    try {
      await next();
    } finally {
      if (ctx.path !== '/healthz' && ctx.path !== '/readyz' && ctx.path !== '/metrics') {
        opts.logger.info(
          { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - t) },
          'http',
        );
      }
    }
  });
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const status = (err as { status?: number }).status ?? 500;
      ctx.status = status;
      ctx.body = { error: status >= 500 ? 'internal error' : errorMessage(err) };
      if (status >= 500) opts.logger.error({ err: errorMessage(err), path: ctx.path }, 'request failed');
    }
  });
  const base = new Router();
  base.get('/healthz', (ctx) => {
    const ok = opts.healthy?.() ?? true;
    ctx.status = ok ? 200 : 503;
    ctx.body = ok ? 'ok\n' : 'unhealthy\n';
  });
  base.get('/readyz', (ctx) => {
    const r = opts.ready();
    ctx.status = r.ready ? 200 : 503;
    ctx.body = r.ready ? 'ready\n' : `not ready: ${r.reason ?? ''}\n`;
  });
  base.get('/metrics', async (ctx) => {
    ctx.type = opts.registry.contentType;
    ctx.body = await opts.registry.metrics();
  });
  app.use(base.routes()).use(base.allowedMethods());
  for (const r of opts.routers) app.use(r.routes()).use(r.allowedMethods());
  return app;
}

export async function listen(app: Koa, host: string, port: number): Promise<{ server: Server; url: string }> {
  const server = createServer(app.callback());
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => ok());
  });
  const a = server.address() as AddressInfo;
  return { server, url: `http://${a.address}:${a.port}` };
}
