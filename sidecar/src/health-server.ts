import { createServer, type Server } from 'node:http';

/**
 * The sidecar's own liveness endpoint, for its container's livenessProbe: 200 while the probe
 * loop is alive, 503 once it stalls (no probe for 3 intervals) or the sidecar is shutting down.
 * The body shows the buffer state, which helps when the engine is unreachable.
 */
export function startHealthServer(
  port: number,
  status: () => { healthy: boolean; body: Record<string, unknown> },
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/healthz') {
      res.writeHead(404).end();
      return;
    }
    const s = status();
    res.writeHead(s.healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(s.body));
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '0.0.0.0', () => ok(server));
  });
}
