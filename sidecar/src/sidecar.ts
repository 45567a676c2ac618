import { randomBytes } from 'node:crypto';
import { sleep } from './backoff.js';
import { CaTrust } from './ca-trust.js';
import type { SidecarConfig } from './config.js';
import { startHealthServer, type HealthServer } from './health-server.js';
import type { Log } from './log.js';
import { Prober, type ProbeResult } from './probe.js';
import { readProcessStats } from './proc-stats.js';
import { SIDECAR_VERSION, type Sample } from './report.js';
import { Reporter } from './reporter.js';

/**
 * One sidecar: a probe loop on the policy's interval feeding the reporter's buffer, the
 * reporter's delivery loop, and /healthz. `stop()` is the SIGTERM path: stop probing, flush
 * within the grace period, close.
 */
export class Sidecar {
  private readonly abort = new AbortController();
  private readonly prober: Prober;
  private reporter!: Reporter;
  private health: HealthServer | undefined;
  private seq = 0;
  private last: (ProbeResult & { time: string }) | undefined;
  private lastProbeAt = 0;
  private stopping = false;
  private loops: Promise<void>[] = [];
  readonly instance = randomBytes(6).toString('hex');
  readonly startedAt = new Date().toISOString();

  constructor(
    private readonly cfg: SidecarConfig,
    private readonly log: Log,
  ) {
    this.prober = new Prober(cfg.probe, cfg.probeTimeoutMs);
  }

  async start(): Promise<void> {
    this.reporter = new Reporter(
      this.cfg,
      {
        pod: this.cfg.pod,
        sidecar: { version: SIDECAR_VERSION, instance: this.instance, startedAt: this.startedAt },
        ...(this.cfg.policy ? { policy: this.cfg.policy } : {}),
      },
      this.log,
      // The engine CA, followed through rotations; while its file is missing reports wait, the start does not.
      new CaTrust({ path: this.cfg.caPath, log: this.log }),
    );
    if (this.cfg.healthPort > 0)
      this.health = startHealthServer(this.cfg.healthPort, () => this.healthStatus(), {
        log: this.log,
        ...(this.cfg.podIp ? { podIp: this.cfg.podIp } : {}),
      });
    this.loops = [this.probeLoop(this.abort.signal), this.reporter.run(this.abort.signal)];
    this.log.info('sidecar started', {
      pod: this.cfg.pod,
      probe: this.cfg.probe.type,
      port: this.cfg.probe.port,
      intervalMs: this.cfg.probeIntervalMs,
      report: this.cfg.reportUrl.href,
      healthPort: this.cfg.healthPort,
      instance: this.instance,
    });
  }

  /** Stops probing and flushes the buffer within `graceMs`; resolves true when everything was delivered. */
  async stop(graceMs = this.cfg.shutdownGraceMs): Promise<boolean> {
    const deadline = Date.now() + graceMs;
    this.stopping = true;
    this.abort.abort();
    await Promise.all(this.loops);
    const flushed = await this.reporter.drain(deadline);
    this.prober.close();
    this.reporter.close();
    await this.health?.close();
    this.log.info('sidecar stopped', { flushed, ...this.reporter.snapshot() });
    return flushed;
  }

  healthStatus(): { healthy: boolean; body: Record<string, unknown> } {
    const stalled =
      this.lastProbeAt > 0 && Date.now() - this.lastProbeAt > 3 * this.cfg.probeIntervalMs + this.cfg.probeTimeoutMs;
    return {
      healthy: !this.stopping && !stalled,
      body: {
        status: this.stopping ? 'stopping' : stalled ? 'stalled' : 'ok',
        instance: this.instance,
        seq: this.seq,
        lastProbe: this.last,
        ...this.reporter.snapshot(),
      },
    };
  }

  private async probeLoop(signal: AbortSignal): Promise<void> {
    // Probes run on a fixed schedule, not "interval after the last one ended": a slow probe
    // must not stretch the interval the detectors reason about.
    let next = performance.now();
    while (!signal.aborted) {
      const result = await this.prober.probe();
      this.lastProbeAt = Date.now();
      const sample: Sample = { seq: ++this.seq, time: new Date().toISOString(), probe: result };
      if (this.cfg.procStats.enabled) {
        const stats = await readProcessStats(this.cfg.procStats.match ? { match: this.cfg.procStats.match } : {});
        if (stats) sample.process = stats;
      }
      // A change of state (first sample, healthy → failing, failing → healthy, or another
      // kind of failure, e.g. 500s turning into timeouts) is sent at once instead of at the
      // next report tick: detection speed is the point of the sidecar.
      const changed = this.last === undefined || this.last.ok !== result.ok || this.last.error !== result.error;
      this.last = { ...result, time: sample.time };
      this.reporter.add(sample, changed);
      if (changed && !result.ok) this.log.warn('probe failing', { error: result.error, status: result.status });
      if (changed && result.ok && this.seq > 1) this.log.info('probe healthy again');
      next += this.cfg.probeIntervalMs;
      const now = performance.now();
      if (next < now) next = now; // fell behind (a long timeout): don't burst to catch up
      await sleep(next - now, signal);
    }
  }
}
