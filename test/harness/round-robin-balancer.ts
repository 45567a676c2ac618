// A TCP balancer on loopback that picks a backend per *connection*, round-robin, as kube-proxy
// does for a Service (it is per connection too, though kube-proxy's choice is random): every
// byte of a connection goes to the backend chosen when it was accepted. TLS passes through
// untouched, so the client verifies the backend's own certificate. A backend that refuses the
// connection (a killed replica) is skipped for the next one, before any byte is passed on, as
// a Service stops routing to an endpoint that is gone.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface Backend {
  host: string;
  port: number;
}

export interface Balancer {
  port: number;
  /** Backend index each accepted connection went to, in order. */
  readonly picks: number[];
  close(): Promise<void>;
}

/** Starts on 127.0.0.1; the first connection goes to `backends[0]`, the next to `backends[1]`, and so on. */
export async function startRoundRobinBalancer(backends: readonly Backend[]): Promise<Balancer> {
  if (backends.length === 0) throw new Error('no backends');
  const picks: number[] = [];
  const open = new Set<Socket>();
  let next = 0;
  const server: Server = createServer((client) => {
    client.pause();
    open.add(client);
    const first = next;
    next = (next + 1) % backends.length;
    const attempt = (tries: number, i: number): void => {
      const b = backends[i]!;
      const upstream = connect(b.port, b.host);
      open.add(upstream);
      let connected = false;
      const done = (): void => {
        client.destroy();
        upstream.destroy();
        open.delete(client);
        open.delete(upstream);
      };
      upstream.once('connect', () => {
        connected = true;
        picks.push(i);
        client.on('error', done).on('close', done);
        upstream.on('close', done);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      upstream.on('error', () => {
        if (connected) return done();
        upstream.destroy();
        open.delete(upstream);
        if (tries + 1 < backends.length && !client.destroyed) attempt(tries + 1, (i + 1) % backends.length);
        else done();
      });
    };
    attempt(0, first);
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  return {
    port: (server.address() as AddressInfo).port,
    picks,
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
