import { Agent, request } from 'node:http';
import { Socket } from 'node:net';
import type { ProbeSpec, StatusRange } from './config.js';

/** Why a probe failed, as a small closed set the engine's detectors can count. */
export type ProbeErrorClass =
  'Timeout' | 'ConnectionRefused' | 'ConnectionReset' | 'DnsFailure' | 'UnexpectedStatus' | 'Other';

export interface ProbeResult {
  type: 'http' | 'tcp';
  ok: boolean;
  latencyMs: number;
  status?: number;
  error?: ProbeErrorClass;
}

export function classifyError(err: unknown): ProbeErrorClass {
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'ETIMEDOUT':
    case 'BULKHEAD_PROBE_TIMEOUT':
      return 'Timeout';
    case 'ECONNREFUSED':
      return 'ConnectionRefused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return 'ConnectionReset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'DnsFailure';
    default:
      return 'Other';
  }
}

const inRanges = (status: number, ranges: StatusRange[]): boolean =>
  ranges.some((r) => status >= r.min && status <= r.max);

const timeoutError = (): Error => Object.assign(new Error('probe timed out'), { code: 'BULKHEAD_PROBE_TIMEOUT' });

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/**
 * Probes the main container. One keep-alive agent per prober (a socket per probe would add a
 * TCP handshake to every latency sample and churn ephemeral ports at 10 Hz); `http.request`
 * rather than global fetch, which costs ~20 MB more RSS (performance-anchors §2).
 */
export class Prober {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });

  constructor(
    private readonly spec: ProbeSpec,
    private readonly timeoutMs: number,
  ) {}

  probe(): Promise<ProbeResult> {
    return this.spec.type === 'http' ? this.http(this.spec) : this.tcp(this.spec.host, this.spec.port);
  }

  close(): void {
    this.agent.destroy();
  }

  private http(spec: Extract<ProbeSpec, { type: 'http' }>): Promise<ProbeResult> {
    const start = performance.now();
    return new Promise((resolve) => {
      let settled = false;
      const finish = (r: Omit<ProbeResult, 'type' | 'latencyMs'>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ type: 'http', latencyMs: round(performance.now() - start), ...r });
      };
      const req = request(
        {
          host: spec.host,
          port: spec.port,
          path: spec.path,
          method: 'GET',
          agent: this.agent,
          headers: { 'user-agent': 'bulkhead-sidecar' },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          // Latency is time to the full response: a server that sends headers and then stalls is slow.
          res.on('error', (err) => finish({ ok: false, status, error: classifyError(err) }));
          res.on('end', () =>
            inRanges(status, spec.expectStatus)
              ? finish({ ok: true, status })
              : finish({ ok: false, status, error: 'UnexpectedStatus' }),
          );
          res.resume();
        },
      );
      const timer = setTimeout(() => {
        finish({ ok: false, error: 'Timeout' });
        req.destroy(timeoutError());
      }, this.timeoutMs);
      req.on('error', (err) => finish({ ok: false, error: classifyError(err) }));
      req.end();
    });
  }

  private tcp(host: string, port: number): Promise<ProbeResult> {
    const start = performance.now();
    return new Promise((resolve) => {
      const socket = new Socket();
      let settled = false;
      const finish = (r: Omit<ProbeResult, 'type' | 'latencyMs'>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve({ type: 'tcp', latencyMs: round(performance.now() - start), ...r });
      };
      const timer = setTimeout(() => finish({ ok: false, error: 'Timeout' }), this.timeoutMs);
      socket.once('connect', () => finish({ ok: true }));
      socket.once('error', (err) => finish({ ok: false, error: classifyError(err) }));
      socket.connect(port, host);
    });
  }
}
