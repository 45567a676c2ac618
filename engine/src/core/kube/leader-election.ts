import type { Logger } from '../logger.js';
import { sleep } from '../backoff.js';
import { KubeApiError, isConflict, isNotFound, type KubeClient } from './client.js';
import type { KubeMetrics } from './metrics.js';
import { microTime } from './micro-time.js';
import { errorMessage } from '../errors.js';

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: the leader renews
 * every `retryPeriodMs`; a candidate takes over only when it has seen the same Lease record
 * unchanged for `leaseDurationMs` on its own clock (so clock skew between nodes does not
 * matter); a leader that cannot renew within `renewDeadlineMs` steps down before anyone can
 * take over (renewDeadline < leaseDuration), so two leaders never write at once.
 * Optimistic concurrency on resourceVersion decides races: a 409 means someone else won.
 */
export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger: Logger;
  metrics?: KubeMetrics;
  now?: () => number;
  /**
   * This replica's data-plane URL, published on the Lease while it leads (annotation
   * DATA_PLANE_URL_ANNOTATION) so followers can forward to it (ADR 1501); read at every renew.
   */
  advertise?: () => string | undefined;
}

export const DATA_PLANE_URL_ANNOTATION = 'bulkhead.dev/data-plane-url';

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}
interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec: LeaseSpec;
}

export interface LeadershipCallbacks {
  /** Called on gaining the Lease; `signal` aborts the moment leadership is lost. */
  onStartedLeading(signal: AbortSignal): void;
  onStoppedLeading(): void;
}

export class LeaderElector {
  private leading: AbortController | undefined;
  private observed: { key: string; at: number } | undefined;
  private lastRenew = 0;
  private seenHolder: { identity: string; durationMs: number; url?: string } | undefined;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly now: () => number;
  private readonly path: string;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.leaseDurationMs = opts.leaseDurationMs ?? 10_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 7_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (!(this.renewDeadlineMs < this.leaseDurationMs))
      throw new RangeError('renewDeadline must be shorter than leaseDuration');
    this.now = opts.now ?? Date.now;
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(opts.namespace)}/leases`;
  }

  isLeader(): boolean {
    return this.leading !== undefined && !this.leading.signal.aborted;
  }

  /**
   * Who holds the Lease, as last read: this replica while it leads; else the recorded holder
   * until its record has stood unchanged for the lease duration on our clock (then it is
   * presumed gone and undefined is returned, as it is before the first read).
   */
  holder(): string | undefined {
    if (this.isLeader()) return this.opts.identity;
    const seen = this.seenHolder;
    if (!seen || !this.observed || this.now() - this.observed.at >= seen.durationMs) return undefined;
    return seen.identity;
  }

  /** The holder's published data-plane URL, while holder() is known; undefined when it published none. */
  holderUrl(): string | undefined {
    if (this.isLeader()) return this.opts.advertise?.();
    return this.holder() ? this.seenHolder?.url : undefined;
  }

  /** The Lease's annotations with this replica's URL (or none: never a previous holder's). */
  private annotated(annotations: Record<string, string> | undefined): Record<string, string> {
    const { [DATA_PLANE_URL_ANNOTATION]: _previous, ...rest } = annotations ?? {};
    const url = this.opts.advertise?.();
    return url ? { ...rest, [DATA_PLANE_URL_ANNOTATION]: url } : rest;
  }

  /** Runs until `signal` aborts; then releases the Lease if held, so a successor starts at once. */
  async run(signal: AbortSignal, cb: LeadershipCallbacks): Promise<void> {
    const log = this.opts.logger;
    while (!signal.aborted) {
      let ok = false;
      try {
        ok = await this.tryAcquireOrRenew();
      } catch (err) {
        log.warn({ err: errorMessage(err), lease: this.opts.name }, 'lease update failed');
      }
      const t = this.now();
      if (ok) {
        this.lastRenew = t;
        if (!this.leading) {
          this.leading = new AbortController();
          this.opts.metrics?.isLeader.set({ lease: this.opts.name }, 1);
          this.opts.metrics?.leaderTransitions.inc({ lease: this.opts.name });
          log.info({ lease: this.opts.name, identity: this.opts.identity }, 'became leader');
          cb.onStartedLeading(this.leading.signal);
        }
      } else if (this.leading && t - this.lastRenew >= this.renewDeadlineMs) {
        this.stepDown('renew deadline passed', cb);
      }
      await sleep(this.retryPeriodMs, signal);
    }
    if (this.leading) {
      this.stepDown('shutting down', cb);
      await this.release().catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'lease release failed'));
    }
  }

  private stepDown(why: string, cb: LeadershipCallbacks): void {
    this.leading?.abort();
    this.leading = undefined;
    this.opts.metrics?.isLeader.set({ lease: this.opts.name }, 0);
    this.opts.metrics?.leaderTransitions.inc({ lease: this.opts.name });
    this.opts.logger.warn({ lease: this.opts.name, why }, 'stopped leading');
    cb.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const nowDate = new Date(this.now());
    const mine: LeaseSpec = {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      renewTime: microTime(nowDate),
    };
    let current: Lease;
    try {
      current = await this.client.request<Lease>({ method: 'GET', path: `${this.path}/${this.opts.name}` });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const body: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.opts.name, namespace: this.opts.namespace, annotations: this.annotated(undefined) },
        spec: { ...mine, acquireTime: mine.renewTime!, leaseTransitions: 0 },
      };
      try {
        await this.client.request({ method: 'POST', path: this.path, body });
        return true;
      } catch (e) {
        if (isConflict(e)) return false;
        throw e;
      }
    }
    const spec = current.spec ?? {};
    const held = spec.holderIdentity === this.opts.identity;
    // What we have seen of the record: if it changes, the holder is alive; restart the clock.
    const key = `${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}|${current.metadata.resourceVersion ?? ''}`;
    if (this.observed?.key !== key) this.observed = { key, at: this.now() };
    const holderDuration = (spec.leaseDurationSeconds ?? 0) * 1000;
    const url = current.metadata.annotations?.[DATA_PLANE_URL_ANNOTATION];
    this.seenHolder = spec.holderIdentity
      ? { identity: spec.holderIdentity, durationMs: holderDuration, ...(url ? { url } : {}) }
      : undefined;
    const expired = !spec.holderIdentity || this.now() - this.observed.at >= holderDuration;
    if (!held && !expired) return false;
    const next: Lease = {
      ...current,
      metadata: { ...current.metadata, annotations: this.annotated(current.metadata.annotations) },
      spec: {
        ...spec,
        ...mine,
        acquireTime: held ? (spec.acquireTime ?? mine.renewTime!) : mine.renewTime!,
        leaseTransitions: held ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    try {
      const updated = await this.client.request<Lease>({
        method: 'PUT',
        path: `${this.path}/${this.opts.name}`,
        body: next,
      });
      const u = updated.spec ?? {};
      this.observed = {
        key: `${u.holderIdentity ?? ''}|${u.renewTime ?? ''}|${updated.metadata.resourceVersion ?? ''}`,
        at: this.now(),
      };
      return true;
    } catch (e) {
      if (e instanceof KubeApiError && e.code === 409) return false;
      throw e;
    }
  }

  /** Gives the Lease up on a clean shutdown: an empty holder lets a candidate take it at once. */
  private async release(): Promise<void> {
    const current = await this.client.request<Lease>({ method: 'GET', path: `${this.path}/${this.opts.name}` });
    if (current.spec?.holderIdentity !== this.opts.identity) return;
    const { [DATA_PLANE_URL_ANNOTATION]: _ours, ...annotations } = current.metadata.annotations ?? {};
    await this.client.request({
      method: 'PUT',
      path: `${this.path}/${this.opts.name}`,
      body: {
        ...current,
        metadata: { ...current.metadata, annotations },
        spec: {
          ...current.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: microTime(new Date(this.now())),
        },
      },
    });
  }
}
