import { readFile } from 'node:fs/promises';
import { request, type Agent } from 'node:https';
import { backoffDelay, sleep } from './backoff.js';
import { isTlsVerifyError, type CaTrust } from './ca-trust.js';
import type { SidecarConfig } from './config.js';
import type { Log } from './log.js';
import type { HealthReport, Sample } from './report.js';
import { RingBuffer } from './ring-buffer.js';

export type SendOutcome = 'delivered' | 'retry' | 'rejected' | 'redirected';

/**
 * A replica that is not the leader answers 421 (ADR 1500): the batch is kept, the connection
 * (pinned by kube-proxy to that replica) is closed, and the next attempt, on a new connection,
 * goes at once. After this many in a row the normal backoff applies, so a misbehaving engine
 * is not hammered.
 */
export const MISDIRECTED_RETRIES = 3;

/** Pure: what a reply status means for the batch that got it. */
export function outcomeOf(status: number): 'delivered' | 'rejected' | 'misdirected' | 'retry' {
  if (status >= 200 && status < 300) return 'delivered';
  // The engine will never accept this batch: retrying it would block every later sample.
  if (status === 400 || status === 413 || status === 422) return 'rejected';
  if (status === 421) return 'misdirected';
  // 401 (token not yet valid or rotated), 403, 429, 5xx (503: no leader yet): retry later.
  return 'retry';
}

export interface ReporterStats {
  buffered: number;
  dropped: number;
  delivered: number;
  rejected: number;
  /** Replies from a replica that is not the leader (421), each followed by a new connection. */
  misdirected: number;
  sendFailures: number;
  consecutiveFailures: number;
  lastDeliveryAt?: string;
  lastError?: string;
}

/**
 * Batches samples and delivers them to the engine over HTTPS with the pod's projected
 * ServiceAccount token. Samples wait in a drop-oldest ring buffer until the engine
 * acknowledges them; failures back off exponentially with full jitter. The token file is
 * re-read on every send because the kubelet rotates projected tokens; the engine's CA comes
 * from `CaTrust`, which follows the mounted bundle through rotations.
 */
export class Reporter {
  readonly buffer: RingBuffer<Sample>;
  private wake: (() => void) | undefined;
  private urgent = false;
  private attempt = 0;
  private misdirected = 0;
  private readonly stats = {
    delivered: 0,
    rejected: 0,
    misdirected: 0,
    sendFailures: 0,
    lastDeliveryAt: undefined as string | undefined,
    lastError: undefined as string | undefined,
  };

  constructor(
    private readonly cfg: SidecarConfig,
    private readonly identity: Pick<HealthReport, 'pod' | 'sidecar'> & { policy?: string },
    private readonly log: Log,
    private readonly trust: CaTrust,
  ) {
    this.buffer = new RingBuffer<Sample>(cfg.bufferSize);
  }

  add(sample: Sample, urgent = false): void {
    this.buffer.push(sample);
    if (urgent) this.flushSoon();
  }

  /** Sends without waiting for the next report tick (a probe changed state). */
  flushSoon(): void {
    this.urgent = true;
    this.wake?.();
  }

  snapshot(): ReporterStats {
    return {
      buffered: this.buffer.length,
      dropped: this.buffer.dropped,
      delivered: this.stats.delivered,
      rejected: this.stats.rejected,
      misdirected: this.stats.misdirected,
      sendFailures: this.stats.sendFailures,
      consecutiveFailures: this.attempt,
      ...(this.stats.lastDeliveryAt ? { lastDeliveryAt: this.stats.lastDeliveryAt } : {}),
      ...(this.stats.lastError ? { lastError: this.stats.lastError } : {}),
    };
  }

  /** The delivery loop: every report interval (or at once when urgent), send until the buffer is empty. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (!this.urgent) {
        await new Promise<void>((ok) => {
          const done = (): void => {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            this.wake = undefined;
            ok();
          };
          const timer = setTimeout(done, this.cfg.reportIntervalMs);
          signal.addEventListener('abort', done, { once: true });
          this.wake = done;
        });
      }
      this.urgent = false;
      while (!signal.aborted && this.buffer.length > 0) {
        // 'redirected' goes again at once, on a new connection (bounded by MISDIRECTED_RETRIES).
        const outcome = await this.sendBatch(this.cfg.requestTimeoutMs);
        if (outcome === 'retry') {
          await sleep(backoffDelay(this.attempt - 1, this.cfg.backoffBaseMs, this.cfg.backoffCapMs), signal);
        }
      }
    }
  }

  /** On SIGTERM: send what is buffered, without backoff waits, until empty or the deadline passes. */
  async drain(deadline: number): Promise<boolean> {
    while (this.buffer.length > 0) {
      const left = deadline - Date.now();
      if (left <= 50) return false;
      const outcome = await this.sendBatch(Math.min(this.cfg.requestTimeoutMs, left));
      if (outcome === 'retry') await sleep(Math.min(200, Math.max(0, deadline - Date.now())));
    }
    return true;
  }

  close(): void {
    this.trust.close();
  }

  private async sendBatch(timeoutMs: number): Promise<SendOutcome> {
    const samples = this.buffer.peek(this.cfg.reportBatch);
    const last = samples[samples.length - 1];
    if (!last) return 'delivered';
    const report: HealthReport = {
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'HealthReport',
      pod: this.identity.pod,
      ...(this.identity.policy ? { policy: this.identity.policy } : {}),
      sidecar: this.identity.sidecar,
      dropped: this.buffer.dropped,
      samples,
    };
    const trust = await this.trust.current();
    if (!trust.ok) {
      this.buffer.release();
      return this.failed(trust.reason);
    }
    let status: number;
    let leader: string | undefined;
    try {
      const token = (await readFile(this.cfg.tokenPath, 'utf8')).trim();
      ({ status, leader } = await this.post(trust.agent, JSON.stringify(report), token, timeoutMs));
    } catch (err) {
      // The engine may have rotated its CA: read the bundle again before the next attempt.
      if (isTlsVerifyError(err)) this.trust.verifyFailed();
      this.buffer.release();
      return this.failed(
        `${(err as { code?: string }).code ?? 'Error'}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const outcome = outcomeOf(status);
    if (outcome !== 'misdirected') this.misdirected = 0;
    if (outcome === 'delivered') {
      this.buffer.discardThrough(last.seq);
      this.stats.delivered += samples.length;
      this.stats.lastDeliveryAt = new Date().toISOString();
      if (this.attempt > 0)
        this.log.info('engine reachable again', {
          after: this.attempt,
          buffered: this.buffer.length,
          dropped: this.buffer.dropped,
        });
      this.attempt = 0;
      return 'delivered';
    }
    if (outcome === 'rejected') {
      this.buffer.discardThrough(last.seq);
      this.stats.rejected += samples.length;
      this.log.error('engine rejected a report batch; discarded it', { status, samples: samples.length });
      return 'rejected';
    }
    this.buffer.release();
    if (outcome === 'misdirected') {
      this.stats.misdirected++;
      this.misdirected++;
      // Debug only: behind a Service this is routine until the connection lands on the leader.
      this.log.debug('engine replica is not the leader; reconnecting', { leader, inARow: this.misdirected });
      if (this.misdirected <= MISDIRECTED_RETRIES) return 'redirected';
      this.misdirected = 0;
      return this.failed(`HTTP 421: not the leader (leader ${leader ?? 'unknown'})`);
    }
    return this.failed(`HTTP ${status}`);
  }

  private failed(reason: string): SendOutcome {
    this.attempt++;
    this.stats.sendFailures++;
    this.stats.lastError = reason;
    if (this.attempt === 1 || this.attempt % 10 === 0)
      this.log.warn('report delivery failed; buffering', {
        reason,
        attempt: this.attempt,
        buffered: this.buffer.length,
        dropped: this.buffer.dropped,
      });
    return 'retry';
  }

  private post(
    agent: Agent,
    body: string,
    token: string,
    timeoutMs: number,
  ): Promise<{ status: number; leader?: string }> {
    const url = this.cfg.reportUrl;
    return new Promise((resolve, reject) => {
      const req = request(
        {
          method: 'POST',
          hostname: url.hostname,
          port: url.port || 443,
          path: `${url.pathname}${url.search}`,
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Bearer ${token}`,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            // kube-proxy picks a replica per connection: this one reached a follower, so it
            // must not be reused (the engine also says Connection: close). The next request
            // opens a new connection, balanced afresh.
            if (status === 421) res.socket?.destroy();
            const leader = res.headers['bulkhead-leader'];
            resolve({ status, ...(typeof leader === 'string' ? { leader } : {}) });
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(timeoutMs, () =>
        req.destroy(Object.assign(new Error('report request timed out'), { code: 'ETIMEDOUT' })),
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}
