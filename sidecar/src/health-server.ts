import { createServer, type Server } from 'node:http';
import type { Log } from './log.js';

export interface HealthServer {
  /** Where /healthz listens now (`0.0.0.0:9901`, `10.1.2.3:9901`), undefined while it could not bind. */
  address(): string | undefined;
  close(): Promise<void>;
}

const RETRY_MS = 10_000;

/**
 * The sidecar's own liveness endpoint, for its container's livenessProbe: 200 while the probe
 * loop is alive, 503 once it stalls (no probe for 3 intervals) or the sidecar is shutting down.
 * The body shows the buffer state, which helps when the engine is unreachable.
 *
 * Never fails the sidecar: the injector picked a port no container of the pod declares, but a
 * process may hold it undeclared. Then /healthz binds the pod IP alone (enough for the
 * kubelet, which probes the pod IP, when the other process holds only loopback), else it
 * retries every 10 s while probing and reporting go on: a monitor without /healthz beats a
 * crash-looping one, which would take its pod out of service.
 */
export function startHealthServer(
  port: number,
  status: () => { healthy: boolean; body: Record<string, unknown> },
  opts: { podIp?: string; log: Log },
): HealthServer {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/healthz') {
      res.writeHead(404).end();
      return;
    }
    const s = status();
    res.writeHead(s.healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(s.body));
  });
  let bound: string | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let warned = false;
  const listen = (host: string): Promise<boolean> =>
    new Promise((ok) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        server.off('listening', onListening);
        if (!warned) opts.log.warn('health port unavailable', { host, port, error: err.code });
        ok(false);
      };
      const onListening = (): void => {
        server.off('error', onError);
        ok(true);
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(port, host);
    });
  const attempt = async (): Promise<void> => {
    for (const host of ['0.0.0.0', ...(opts.podIp ? [opts.podIp] : [])]) {
      if (closed) return;
      if (await listen(host)) {
        bound = `${host}:${port}`;
        if (warned || host !== '0.0.0.0') opts.log.info('health endpoint listening', { address: bound });
        return;
      }
    }
    if (!warned)
      opts.log.error('health endpoint not serving: its port is taken; monitoring goes on, retrying', {
        port,
        retryMs: RETRY_MS,
      });
    warned = true;
    if (!closed) retry = setTimeout(() => void attempt(), RETRY_MS);
  };
  void attempt();
  return {
    address: () => bound,
    close: () =>
      new Promise<void>((ok) => {
        closed = true;
        clearTimeout(retry);
        if (bound === undefined) ok();
        else server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
