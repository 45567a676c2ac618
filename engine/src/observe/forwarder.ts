import { Agent, request } from 'node:https';
import { API_VERSION } from '../core/api/index.js';
import { BoundedQueue } from '../core/bounded-queue.js';
import { backoffDelay, sleep } from '../core/backoff.js';
import type { Logger } from '../core/logger.js';
import type { ObserveMetrics } from './metrics.js';

/** A policy's `spec.forward` entry, resolved by the caller (secretRef → authorization header). */
export interface ForwardTarget {
  url: string;
  headers?: Record<string, string>;
  batch?: { maxReports?: number; maxWaitMs?: number };
}

export interface ForwarderOptions {
  logger: Logger;
  metrics?: ObserveMetrics;
  /** Reports held per endpoint while it is slow or down; beyond, the oldest are dropped and counted. */
  queueCapacity?: number;
  requestTimeoutMs?: number;
  backoff?: { baseMs: number; capMs: number };
  /** Extra CA certificates to trust for endpoints (besides the system store). */
  ca?: string;
  /** At most this many distinct endpoints (policies allow 8 each). */
  maxEndpoints?: number;
}

/** What an endpoint receives: a batch of accepted reports, with how many this engine dropped for it so far. */
export interface ForwardBatch {
  apiVersion: typeof API_VERSION;
  kind: 'HealthReportBatch';
  /** Reports dropped for this endpoint since the engine started (its queue was full). */
  dropped: number;
  reports: unknown[];
}

class Endpoint {
  readonly queue: BoundedQueue<unknown>;
  readonly label: string;
  wake: (() => void) | undefined;
  attempt = 0;
  loop: Promise<void> | undefined;

  constructor(
    readonly target: ForwardTarget,
    capacity: number,
  ) {
    this.queue = new BoundedQueue(capacity);
    const u = new URL(target.url);
    this.label = `${u.host}${u.pathname}`;
  }
}

/**
 * Hands accepted reports to external analytics endpoints. `enqueue` only appends to the
 * endpoint's bounded queue and returns: ingest never waits on an endpoint. One worker per
 * endpoint sends batches (HTTPS POST, JSON) with a request timeout, retries with full-jitter
 * backoff, and puts a failed batch back at the front so order holds; a full queue drops the
 * oldest reports and the next batch says how many.
 */
export class Forwarder {
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly abort = new AbortController();
  private readonly agent: Agent;
  private readonly capacity: number;
  private readonly timeoutMs: number;
  private readonly backoff: { baseMs: number; capMs: number };
  private readonly maxEndpoints: number;

  constructor(private readonly opts: ForwarderOptions) {
    this.capacity = opts.queueCapacity ?? 10_000;
    this.timeoutMs = opts.requestTimeoutMs ?? 5_000;
    this.backoff = opts.backoff ?? { baseMs: 500, capMs: 30_000 };
    this.maxEndpoints = opts.maxEndpoints ?? 64;
    this.agent = new Agent({ keepAlive: true, maxSockets: 4, ...(opts.ca ? { ca: opts.ca } : {}) });
  }

  enqueue(target: ForwardTarget, record: unknown): void {
    if (this.abort.signal.aborted) return;
    let ep = this.endpoints.get(target.url);
    if (!ep) {
      if (this.endpoints.size >= this.maxEndpoints) {
        this.opts.logger.warn({ url: target.url }, 'forward endpoint limit reached; not forwarding to it');
        return;
      }
      ep = new Endpoint(target, this.capacity);
      this.endpoints.set(target.url, ep);
      ep.loop = this.run(ep);
    }
    if (ep.queue.push(record) !== undefined) this.opts.metrics?.forwardDropped.inc({ endpoint: ep.label });
    this.opts.metrics?.forwardQueue.set({ endpoint: ep.label }, ep.queue.length);
    if (ep.queue.length >= (ep.target.batch?.maxReports ?? 100)) ep.wake?.();
  }

  depth(url: string): number {
    return this.endpoints.get(url)?.queue.length ?? 0;
  }

  async close(): Promise<void> {
    this.abort.abort();
    await Promise.all([...this.endpoints.values()].map((e) => e.loop));
    this.agent.destroy();
  }

  private async run(ep: Endpoint): Promise<void> {
    const signal = this.abort.signal;
    const maxReports = ep.target.batch?.maxReports ?? 100;
    const maxWaitMs = ep.target.batch?.maxWaitMs ?? 1_000;
    while (!signal.aborted) {
      if (ep.queue.length < maxReports) {
        await new Promise<void>((ok) => {
          const done = (): void => {
            clearTimeout(t);
            signal.removeEventListener('abort', done);
            ep.wake = undefined;
            ok();
          };
          const t = setTimeout(done, maxWaitMs);
          signal.addEventListener('abort', done, { once: true });
          ep.wake = done;
        });
      }
      while (!signal.aborted && ep.queue.length > 0) {
        const batch = ep.queue.take(maxReports);
        const body: ForwardBatch = {
          apiVersion: API_VERSION,
          kind: 'HealthReportBatch',
          dropped: ep.queue.dropped,
          reports: batch,
        };
        const ok = await this.post(ep, JSON.stringify(body));
        if (ok) {
          ep.attempt = 0;
          this.opts.metrics?.forwardSent.inc({ endpoint: ep.label }, batch.length);
        } else {
          const before = ep.queue.dropped;
          ep.queue.unshiftAll(batch);
          const lost = ep.queue.dropped - before;
          if (lost > 0) this.opts.metrics?.forwardDropped.inc({ endpoint: ep.label }, lost);
          this.opts.metrics?.forwardFailures.inc({ endpoint: ep.label });
          if (ep.attempt === 0 || ep.attempt % 10 === 9)
            this.opts.logger.warn(
              { endpoint: ep.label, attempt: ep.attempt + 1, queued: ep.queue.length },
              'forward failed; will retry',
            );
          await sleep(backoffDelay(ep.attempt++, this.backoff), signal);
        }
        this.opts.metrics?.forwardQueue.set({ endpoint: ep.label }, ep.queue.length);
      }
    }
  }

  private post(ep: Endpoint, body: string): Promise<boolean> {
    const u = new URL(ep.target.url);
    return new Promise((resolve) => {
      const req = request(
        {
          method: 'POST',
          hostname: u.hostname,
          port: u.port || 443,
          path: `${u.pathname}${u.search}`,
          agent: this.agent,
          headers: {
            ...ep.target.headers,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300));
          res.on('error', () => resolve(false));
        },
      );
      // A hanging endpoint costs at most one timeout per attempt, and only its own worker waits.
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error('forward request timed out')));
      req.on('error', () => resolve(false));
      req.end(body);
    });
  }
}
