import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { KeyPair } from '../core/pki.js';

export interface AdmissionServer {
  server: Server;
  port: number;
  url: string;
  /** Swap the serving cert: new connections get it, open ones finish on the old one. */
  reload(serving: KeyPair): void;
  close(): Promise<void>;
}

/**
 * HTTPS for the admission app. The apiserver keeps connections alive, so reload goes through
 * setSecureContext (no restart, no dropped request), and keep-alive outlives the apiserver's
 * idle timeout so connections are reused rather than re-handshaked.
 */
export async function startAdmissionServer(
  app: Koa,
  serving: KeyPair,
  opts: { host?: string; port?: number } = {},
): Promise<AdmissionServer> {
  const server = createServer({ cert: serving.cert, key: serving.key, minVersion: 'TLSv1.2' }, app.callback());
  server.keepAliveTimeout = 95_000;
  server.headersTimeout = 100_000;
  server.requestTimeout = 30_000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    reload: (kp) => server.setSecureContext({ cert: kp.cert, key: kp.key, minVersion: 'TLSv1.2' }),
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
