import type { Context } from 'koa';

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
