import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { checkServerIdentity } from 'node:tls';
import type { Context } from 'koa';
import type { Logger } from '../logger.js';
import { errorMessage } from '../errors.js';

/**
 * A follower's hop to the leader (ADR 1501): the request as it came (method, path, query,
 * headers, body), so the leader authenticates and authorizes the original caller exactly as
 * if called directly; the leader's answer is relayed as it comes (status, headers, streamed
 * body). The leader is verified against the replicas' shared CA and the Service's DNS name
 * (every replica serves the same certificate), whatever address it is dialled at.
 */
export type LeaderForward = (ctx: Context, leaderUrl: string, body?: Buffer) => Promise<void>;

/** Set on a forwarded request: the receiver never forwards it again (at most one hop). */
export const FORWARDED_BY_HEADER = 'bulkhead-forwarded-by';
/** Set on a relayed answer: which replica served it. */
export const SERVED_BY_HEADER = 'bulkhead-served-by';

// Hop-by-hop headers (RFC 9110 §7.6.1) and the ones the hop itself rewrites.
const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

const endToEnd = (h: IncomingHttpHeaders): Record<string, string | string[]> => {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP.has(k)) out[k] = v as string | string[];
  return out;
};

export function createLeaderForward(opts: {
  /** The CA bundle the replicas' serving certificate chains to (read per request: it rotates). */
  ca: () => string;
  /** The name in the shared serving certificate: the Service's DNS name. */
  serverName: string;
  /** This replica, named in FORWARDED_BY_HEADER. */
  identity: string;
  /** The leader's identity as the Lease names it, for SERVED_BY_HEADER. */
  leader: () => string | undefined;
  logger: Logger;
  timeoutMs?: number;
}): LeaderForward {
  return (ctx, leaderUrl, body) =>
    new Promise<void>((done) => {
      const target = new URL(ctx.originalUrl, leaderUrl);
      const headers = {
        ...endToEnd(ctx.req.headers),
        [FORWARDED_BY_HEADER]: opts.identity,
        ...(body ? { 'content-length': String(body.length) } : {}),
      };
      const unreachable = (err: unknown): void => {
        opts.logger.warn({ err: errorMessage(err), leader: target.origin, path: ctx.path }, 'leader not reachable');
        if (ctx.res.headersSent) {
          ctx.res.destroy();
          return done();
        }
        ctx.status = 503;
        ctx.set('retry-after', '2');
        ctx.body = { status: 503, reason: 'LeaderUnreachable', message: 'the leader could not be reached; retry' };
        done();
      };
      const req = request(
        {
          method: ctx.method,
          hostname: target.hostname.replace(/^\[|\]$/g, ''),
          port: target.port,
          path: `${target.pathname}${target.search}`,
          headers,
          ca: opts.ca(),
          servername: opts.serverName,
          checkServerIdentity: (_host, cert) => checkServerIdentity(opts.serverName, cert),
          agent: false,
          timeout: opts.timeoutMs ?? 30_000,
        },
        (res) => {
          ctx.status = res.statusCode ?? 502;
          for (const [k, v] of Object.entries(endToEnd(res.headers))) if (k !== 'content-length') ctx.set(k, v);
          const served = opts.leader();
          if (served) ctx.set(SERVED_BY_HEADER, served);
          ctx.body = res;
          done();
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', unreachable);
      if (body) req.end(body);
      else if (ctx.method === 'GET' || ctx.method === 'HEAD') req.end();
      else ctx.req.pipe(req);
    });
}
