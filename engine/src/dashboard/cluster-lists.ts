import { GROUP, PLURAL, VERSION, type HealthPolicy, type PolicySource, type Quarantine } from '../core/api/index.js';
import { KubeApiError, type KubeClient } from '../core/kube/client.js';
import type { Listed } from './snapshot.js';
import { errorMessage } from '../core/errors.js';

/** What the dashboard reads from the apiserver on a refresh. */
export interface ClusterLists {
  sources: Listed<PolicySource>;
  policies: Listed<HealthPolicy>;
  quarantines: Listed<Quarantine>;
}

export interface ListLimits {
  sources: number;
  policies: number;
  /** All namespaces; newest first is applied after the read. */
  quarantines: number;
}

export const DEFAULT_LIMITS: ListLimits = { sources: 100, policies: 500, quarantines: 500 };

/** A page is not worth waiting longer for than this; the section then shows the timeout. */
export const LIST_TIMEOUT_MS = 5_000;

/** Why a list failed, in words an operator can act on (never the request's credentials). */
export function describeListError(plural: string, err: unknown): string {
  if (err instanceof KubeApiError) {
    if (err.code === 403)
      return `the engine may not list ${plural}.${GROUP} (RBAC): ${err.status.message ?? ''}`.trim();
    if (err.code === 404) return `${plural}.${GROUP} is not served (CRD not installed?)`;
    return `listing ${plural}: ${err.code} ${err.status.reason ?? ''} ${err.status.message ?? ''}`.trim();
  }
  return `listing ${plural}: ${errorMessage(err)}`;
}

async function listOne<T>(client: KubeClient, plural: string, limit: number, timeoutMs: number): Promise<Listed<T>> {
  try {
    // One page, limited: a huge list shows its first `limit` items and says it was cut.
    const r = await client.request<{ items?: T[]; metadata?: { continue?: string } }>({
      method: 'GET',
      path: `/apis/${GROUP}/${VERSION}/${plural}`,
      query: { limit: String(limit) },
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { items: r.items ?? [], truncated: Boolean(r.metadata?.continue) };
  } catch (err) {
    return { items: [], truncated: false, error: describeListError(plural, err) };
  }
}

/** The three lists, read in parallel; a failing list is reported in its section, never fails the page. */
export async function readClusterLists(
  client: KubeClient,
  limits: ListLimits = DEFAULT_LIMITS,
  timeoutMs = LIST_TIMEOUT_MS,
): Promise<ClusterLists> {
  const [sources, policies, quarantines] = await Promise.all([
    listOne<PolicySource>(client, PLURAL.PolicySource, limits.sources, timeoutMs),
    listOne<HealthPolicy>(client, PLURAL.HealthPolicy, limits.policies, timeoutMs),
    listOne<Quarantine>(client, PLURAL.Quarantine, limits.quarantines, timeoutMs),
  ]);
  return { sources, policies, quarantines };
}

/**
 * Shares one read among every viewer: the apiserver sees at most three LISTs per ttl however
 * many browsers poll, and concurrent requests await the same read. With `adaptive`, the ttl
 * grows to that many times the last load's duration, so an expensive load (a walk of 10,000
 * health windows) never takes more than 1/adaptive of the engine's time, however many poll.
 */
export class Memo<T> {
  private value: { at: number; p: Promise<T>; settled: boolean } | undefined;
  private lastCostMs = 0;
  constructor(
    private readonly load: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly adaptive = 0,
  ) {}

  /** The current ttl (ms). */
  get ttl(): number {
    return Math.max(this.ttlMs, this.adaptive * this.lastCostMs);
  }

  get(): Promise<T> {
    const t = this.now();
    // A load still running is joined, however old: a hung apiserver never piles up reads.
    if (this.value && (!this.value.settled || t - this.value.at < this.ttl)) return this.value.p;
    const started = performance.now();
    const p = this.load();
    const entry = { at: t, p, settled: false };
    this.value = entry;
    p.then(
      () => {
        // Fresh from when it arrived, not from when it was asked for.
        entry.at = this.now();
        entry.settled = true;
        this.lastCostMs = performance.now() - started;
      },
      // A failed load is not cached.
      () => {
        entry.settled = true;
        if (this.value === entry) this.value = undefined;
      },
    );
    return p;
  }
}
