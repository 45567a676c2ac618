import { Agent, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Socket } from 'node:net';
import type { ProbeSpec, StatusRange } from './config.js';
import { grpcHealthCheck } from './grpc-probe.js';
import { classifyError, type ProbeResult } from './probe-result.js';

export { classifyError, type ProbeErrorClass, type ProbeResult } from './probe-result.js';

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
  // An HTTPS readiness probe is probed as the kubelet probes it: TLS, the app's certificate
  // not verified (the app's serving cert is often self-signed or for another name). This agent
  // only ever talks to the app; reports to the engine verify its CA (reporter.ts).
  private readonly agent: Agent;

  constructor(
    private readonly spec: ProbeSpec,
    private readonly timeoutMs: number,
  ) {
    this.agent =
      spec.type === 'http' && spec.scheme === 'https'
        ? new HttpsAgent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1, rejectUnauthorized: false })
        : new Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
  }

  probe(): Promise<ProbeResult> {
    if (this.spec.type === 'http') return this.http(this.spec);
    if (this.spec.type === 'grpc') return grpcHealthCheck(this.spec, this.timeoutMs);
    return this.tcp(this.spec.host, this.spec.port);
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
      const headers: Record<string, string> = { 'user-agent': 'bulkhead-sidecar' };
      // The probe's own headers win, as with the kubelet (a Host header among them included).
      for (const h of spec.headers) headers[h.name.toLowerCase()] = h.value;
      const req = (spec.scheme === 'https' ? httpsRequest : request)(
        {
          host: spec.host,
          port: spec.port,
          path: spec.path,
          method: 'GET',
          agent: this.agent,
          headers,
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
