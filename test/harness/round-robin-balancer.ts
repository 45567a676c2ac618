// A TCP balancer on loopback that picks a backend per *connection*, round-robin, as kube-proxy
// does for a Service (it is per connection too, though kube-proxy's choice is random): every
// byte of a connection goes to the backend chosen when it was accepted. TLS passes through
// untouched, so the client verifies the backend's own certificate.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface Backend {
  host: string;
  port: number;
}

export interface Balancer {
  port: number;
  /** Backend index chosen for each accepted connection, in order. */
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
    const i = next;
    next = (next + 1) % backends.length;
    picks.push(i);
    const b = backends[i]!;
    const upstream = connect(b.port, b.host);
    open.add(client).add(upstream);
    const done = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
    client.pipe(upstream);
    upstream.pipe(client);
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
