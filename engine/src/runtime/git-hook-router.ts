import { Router } from '@koa/router';
import { readBoundedBody } from '../core/http/bounded-body.js';
import { serveHereOrForward, type LeaderView } from '../core/http/leader-gate.js';
import type { Logger } from '../core/logger.js';
import { verifyWebhook } from '../source/index.js';

/** Push payloads are small; the signature is over the raw bytes, so the body is read as-is. */
const MAX_BODY = 1024 * 1024;

/**
 * `POST /hooks/git/<source>`: a push webhook from GitHub, GitLab or anything that signs with
 * HMAC-SHA256. A bad or missing signature is 401 and triggers nothing; a good one queues a
 * sync (coalesced with any in flight) and answers 202 at once, without waiting for it. With
 * no secret configured, push webhooks are off: 503, saying so, and nothing is read. Only the
 * leader syncs: a follower forwards the hook to it and relays its answer (ADR 1501), or, when
 * it cannot, answers 421 naming the leader (503 with Retry-After while none is known) and
 * queues nothing, so a caller can tell and redeliver.
 */
export function gitHookRouter(opts: {
  secret: string | undefined;
  logger: Logger;
  leader: LeaderView;
  /** Queues a sync; false when this engine does not serve the source (or is not the leader). */
  trigger: (source: string) => 'queued' | 'unknown' | 'not-leader';
}): Router {
  const r = new Router();
  r.post('/hooks/git/:source', async (ctx) => {
    const source = ctx.params.source ?? '';
    if (!opts.secret) {
      // Not an authentication failure: this engine has no secret to check against at all.
      ctx.status = 503;
      ctx.body = { error: 'push webhooks are off: no secret configured (Secret bulkhead-webhook, key secret)' };
      return;
    }
    const body = await readBoundedBody(ctx.req, MAX_BODY);
    const v = verifyWebhook(ctx.headers, body, opts.secret);
    if (!v.ok) {
      opts.logger.warn({ source, why: v.reason }, 'webhook refused');
      ctx.status = 401;
      ctx.body = { error: 'invalid signature' };
      return;
    }
    // After the signature: an unsigned request learns nothing, not even who leads. A follower
    // relays the same bytes to the leader, which checks the signature again (ADR 1501).
    if (await serveHereOrForward(ctx, opts.leader, 'push webhooks', body)) return;
    const result = opts.trigger(source);
    if (result === 'not-leader') {
      // Leadership just changed hands (or the source manager is not up yet): retry shortly.
      ctx.status = 503;
      ctx.set('retry-after', '2');
      ctx.body = { error: 'this replica is not serving sources right now; retry' };
      return;
    }
    if (result === 'unknown') {
      ctx.status = 404;
      ctx.body = { error: `no PolicySource "${source}"` };
      return;
    }
    ctx.status = 202;
    ctx.body = { source, provider: v.provider, queued: true };
  });
  return r;
}
