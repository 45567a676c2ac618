import type { Context } from 'koa';
import { FORWARDED_BY_HEADER, type LeaderForward } from './leader-forward.js';

/**
 * Until issue 15's multi-replica data plane lands, the leader is the one data-plane executor
 * (docs/adr/1500): a replica that is not the leader accepts no work it would drop. It answers
 * 421 Misdirected Request naming the leader (the holder of the Lease), or 503 with
 * Retry-After while no leader is known; the caller opens a new connection (through the
 * Service, kube-proxy picks a replica per connection) and tries again.
 */
export interface LeaderView {
  isLeader(): boolean;
  /** The Lease holder as last observed, undefined while none is known (or the Lease expired). */
  holder(): string | undefined;
  /** The leader's data-plane URL as published on the Lease (ADR 1501), when known. */
  holderUrl?(): string | undefined;
  /** How a follower relays a request to the leader; absent: it answers 421/503 instead. */
  forward?: LeaderForward;
}

export const LEADER_HEADER = 'bulkhead-leader';

export interface NotLeader {
  status: 421 | 503;
  headers: Record<string, string>;
  body: { status: number; reason: 'NotLeader' | 'NoLeader'; message: string; leader?: string };
}

/** Pure: undefined when this replica serves `what`; else the refusal to send. */
export function notLeader(view: LeaderView | undefined, what: string, retryAfterSec = 2): NotLeader | undefined {
  if (!view || view.isLeader()) return undefined;
  const leader = view.holder();
  if (!leader)
    return {
      status: 503,
      headers: { 'retry-after': String(retryAfterSec) },
      body: { status: 503, reason: 'NoLeader', message: `no leader elected yet; ${what} is served by the leader only` },
    };
  return {
    status: 421,
    headers: { [LEADER_HEADER]: leader },
    body: {
      status: 421,
      reason: 'NotLeader',
      message: `this replica is not the leader; ${what} is served by the leader (${leader}): open a new connection and retry`,
      leader,
    },
  };
}

/** Writes the refusal on `ctx` and returns true when this replica must not serve the request. */
export function refuseUnlessLeader(ctx: Context, view: LeaderView | undefined, what: string): boolean {
  const r = notLeader(view, what);
  if (!r) return false;
  ctx.status = r.status;
  for (const [k, v] of Object.entries(r.headers)) ctx.set(k, v);
  // The caller must not reuse this connection: it is pinned to the wrong replica.
  ctx.set('connection', 'close');
  ctx.body = r.body;
  return true;
}

/**
 * The gate of every leader-only route but report ingest (ADR 1501): on the leader, false
 * (serve it here); on a follower, the request is forwarded to the leader and its answer
 * relayed, or, when that cannot be done (no leader known, no URL published yet, or this
 * request was already forwarded once), refused with 421/503 as above. Truthy when handled.
 * `body`: the bytes already read from the request (a push hook reads them to check the
 * signature first); otherwise the request stream is relayed as it is.
 */
export async function serveHereOrForward(
  ctx: Context,
  view: LeaderView | undefined,
  what: string,
  body?: Buffer,
): Promise<false | 'forwarded' | 'refused'> {
  if (!view || view.isLeader()) return false;
  const url = view.holderUrl?.();
  if (view.forward && url && view.holder() && !ctx.get(FORWARDED_BY_HEADER)) {
    await view.forward(ctx, url, body);
    return 'forwarded';
  }
  return refuseUnlessLeader(ctx, view, what) ? 'refused' : false;
}
