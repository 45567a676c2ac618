import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueCertificate } from '../../engine/src/core/pki.js';
import { tmpdir } from 'node:os';

/** git http-backend reads no user or system config: what it serves depends on the repositories only. */
const BACKEND_GIT_ENV: Record<string, string> = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: tmpdir(),
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_SYSTEM: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
};

/**
 * Git smart HTTP over TLS, for the tests and the real-node demo (a private repository the way
 * a user has one): a small HTTPS server with its own CA in front of the real
 * `git http-backend` CGI, serving every bare repository under `projectRoot`. Requests without
 * the token (Basic password or Bearer) get 401, as GitHub and GitLab answer. It records the
 * Authorization scheme of each request (never the value), so a test can prove the engine
 * authenticated, and what URLs it asked for.
 */
export interface GitHttpServer {
  /** https://<host>:<port> (no port when it is 443) */
  url: string;
  caCert: string;
  requests: { method: string; path: string; auth: 'none' | 'basic' | 'bearer'; status: number }[];
  close(): Promise<void>;
}

export async function startGitHttpServer(opts: {
  projectRoot: string;
  token: string;
  /** Where to listen (default 127.0.0.1 on a free port); real nodes use their cluster's bridge and 443. */
  host?: string;
  port?: number;
}): Promise<GitHttpServer> {
  const host = opts.host ?? '127.0.0.1';
  const ca = await createCertificateAuthority('bulkhead-local-git-ca', 1);
  const serving = await issueCertificate(ca, {
    commonName: host,
    ipAddresses: [...new Set(['127.0.0.1', host])],
    dnsNames: ['localhost'],
    usage: 'server',
    validForDays: 1,
  });
  const requests: GitHttpServer['requests'] = [];

  const authorized = (req: IncomingMessage): 'none' | 'basic' | 'bearer' | 'bad' => {
    const h = req.headers.authorization;
    if (!h) return 'none';
    const [scheme, value = ''] = h.split(' ', 2);
    if (scheme?.toLowerCase() === 'bearer') return value === opts.token ? 'bearer' : 'bad';
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      return decoded.slice(decoded.indexOf(':') + 1) === opts.token ? 'basic' : 'bad';
    }
    return 'bad';
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const auth = authorized(req);
    const record = (status: number): void => {
      requests.push({ method: req.method ?? '', path: url.pathname, auth: auth === 'bad' ? 'none' : auth, status });
    };
    if (auth === 'none' || auth === 'bad') {
      record(401);
      res.writeHead(401, { 'www-authenticate': 'Basic realm="bulkhead-test"' }).end('authentication required\n');
      return;
    }
    const env: Record<string, string> = {
      ...BACKEND_GIT_ENV,
      GIT_PROJECT_ROOT: opts.projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: decodeURIComponent(url.pathname),
      REQUEST_METHOD: req.method ?? 'GET',
      QUERY_STRING: url.search.replace(/^\?/, ''),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: 'test',
      REMOTE_ADDR: '127.0.0.1',
    };
    if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = String(req.headers['content-encoding']);
    if (req.headers['git-protocol']) env.GIT_PROTOCOL = String(req.headers['git-protocol']);
    const cgi = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('utf8').split('\r\n')) {
        const i = line.indexOf(':');
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === 'status') status = Number.parseInt(v, 10);
        else headers[k] = v;
      }
      record(status);
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    cgi.stdout.on('end', () => res.end());
    cgi.on('error', () => res.destroy());
  };

  const server = createServer({ cert: serving.cert, key: serving.key }, handle);
  // A listen error (EADDRINUSE, EADDRNOTAVAIL) rejects instead of leaving the caller waiting forever.
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: port === 443 ? `https://${host}` : `https://${host}:${port}`,
    caCert: ca.cert,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
