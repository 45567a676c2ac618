// Real processes for the observe and sidecar integration tests: the ingest server
// (`bulkhead observe serve`), a tiny HTTP app that can be told to fail, and the bundled
// sidecar. Each writes its log to a file registered for the failure dump.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSign } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { createCertificateAuthority, issueCertificate, type KeyPair } from '../../../engine/src/core/pki.js';
import { freePorts, mintServiceAccountToken } from '../../../tools/local-cluster/index.js';
import { buildSidecar } from '../../../sidecar/build.js';
import { eventually, getCluster, registerLogFile } from '../../harness/index.js';

const repo = resolve('.');
const children = new Set<ChildProcess>();

/** Kills what is still running (an after() hook of each test file calls this). */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...children].map(async (c) => {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGKILL');
        await once(c, 'exit');
      }
    }),
  );
  children.clear();
}

async function logFile(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bulkhead-observe-'));
  const path = join(dir, `${name}.log`);
  registerLogFile(name, path);
  return path;
}

function spawnLogged(
  name: string,
  path: string,
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): ChildProcess {
  const out = createWriteStream(path, { flags: 'a' });
  const child = spawn(cmd, args, { cwd: repo, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(out, { end: false });
  child.stderr!.pipe(out, { end: false });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export interface Tls {
  ca: KeyPair;
  serving: KeyPair;
  dir: string;
  caPath: string;
  certPath: string;
  keyPath: string;
}

/** A CA and a 127.0.0.1 serving cert, written to files. */
export async function makeTls(name: string): Promise<Tls> {
  const ca = await createCertificateAuthority(`${name}-ca`, 1);
  const serving = await issueCertificate(ca, {
    commonName: '127.0.0.1',
    ipAddresses: ['127.0.0.1'],
    dnsNames: ['localhost'],
    usage: 'server',
    validForDays: 1,
  });
  const dir = await mkdtemp(join(tmpdir(), `bulkhead-${name}-`));
  const t = {
    ca,
    serving,
    dir,
    caPath: join(dir, 'ca.crt'),
    certPath: join(dir, 'tls.crt'),
    keyPath: join(dir, 'tls.key'),
  };
  await Promise.all([
    writeFile(t.caPath, ca.cert),
    writeFile(t.certPath, serving.cert),
    writeFile(t.keyPath, serving.key, { mode: 0o600 }),
  ]);
  return t;
}

export interface Ingest {
  url: string;
  port: number;
  tls: Tls;
  process: ChildProcess;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** Starts again on the same port. */
  start(): Promise<void>;
}

/** `bulkhead observe serve` as a separate process, on a fixed port so it can be restarted. */
export async function startIngest(args: string[] = [], name = 'observe-engine'): Promise<Ingest> {
  const tls = await makeTls('ingest');
  const [port] = await freePorts(1);
  const path = await logFile(name);
  const ingest: Ingest = {
    url: `https://127.0.0.1:${port}`,
    port: port!,
    tls,
    process: undefined as unknown as ChildProcess,
    async start() {
      const child = spawnLogged(name, path, process.execPath, [
        'bin/bulkhead.js',
        'observe',
        'serve',
        '--port',
        String(port),
        '--tls-cert',
        tls.certPath,
        '--tls-key',
        tls.keyPath,
        '--kubeconfig',
        getCluster().kubeconfigPath,
        ...args,
      ]);
      ingest.process = child;
      let seen = '';
      await new Promise<void>((ok, fail) => {
        const onData = (d: Buffer): void => {
          seen += d.toString();
          if (seen.includes('listening on https://')) {
            child.stdout!.off('data', onData);
            ok();
          }
        };
        child.stdout!.on('data', onData);
        child.once('exit', (code) => fail(new Error(`ingest exited with ${code} before listening; see ${path}`)));
      });
    },
    async stop() {
      const child = ingest.process;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
  await ingest.start();
  return ingest;
}

export interface HttpResult {
  status: number;
  body: string;
  json<T = unknown>(): T;
}

/** One HTTPS request with a fresh connection (no pooling, so a restarted server is seen at once). */
export function httpsCall(
  url: string,
  opts: { ca: string; method?: string; token?: string; body?: string | Buffer; headers?: Record<string, string> },
): Promise<HttpResult> {
  const u = new URL(url);
  return new Promise((ok, fail) => {
    const req = request(
      {
        method: opts.method ?? 'GET',
        hostname: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        ca: opts.ca,
        agent: new Agent({ keepAlive: false, ca: opts.ca }),
        headers: {
          ...(opts.body !== undefined
            ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(opts.body)) }
            : {}),
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          ok({ status: res.statusCode ?? 0, body, json: <T>() => JSON.parse(body) as T });
        });
      },
    );
    req.on('error', fail);
    req.end(opts.body);
  });
}

/** The value of a Prometheus sample (0 when absent). */
export async function metric(ingest: Ingest, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = (await httpsCall(`${ingest.url}/metrics`, { ca: ingest.tls.ca.cert })).body;
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (want.every((w) => line.includes(w))) total += Number(line.split(' ').pop());
  }
  return total;
}

export interface TestPod {
  namespace: string;
  name: string;
  uid: string;
}

/** A pod in the cluster (kwok runs it), with the `reporter` ServiceAccount. */
export async function createPod(namespace: string, name: string): Promise<TestPod> {
  const core = getCluster().kubeConfig().makeApiClient(CoreV1Api);
  await core
    .createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'reporter' } } })
    .catch((e: { code?: number }) => {
      if (e.code !== 409) throw e;
    });
  const pod = await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, labels: { app: 'observed' } },
      spec: {
        serviceAccountName: 'reporter',
        containers: [{ name: 'app', image: 'registry.invalid/app:1' }],
        tolerations: [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }],
      },
    },
  });
  return { namespace, name, uid: pod.metadata!.uid! };
}

/** A projected-style token: audience bulkhead, bound to the pod (TokenRequest on the real apiserver). */
export function podToken(
  pod: TestPod,
  opts: { audiences?: string[]; expirationSeconds?: number } = {},
): Promise<string> {
  return mintServiceAccountToken(getCluster().kubeConfig(), pod.namespace, 'reporter', {
    audiences: opts.audiences ?? ['bulkhead'],
    boundPod: { name: pod.name, uid: pod.uid },
    expirationSeconds: opts.expirationSeconds ?? 3600,
  });
}

/**
 * The same token with its validity moved into the past and re-signed with the cluster's real
 * ServiceAccount signing key: a genuinely expired token, which TokenRequest cannot mint (its
 * minimum lifetime is 10 minutes).
 */
export async function expiredCopy(token: string): Promise<string> {
  const [, payload] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
  const now = Math.floor(Date.now() / 1000);
  Object.assign(claims, { iat: now - 7200, nbf: now - 7200, exp: now - 3600 });
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  const head = Buffer.from(JSON.stringify(header)).toString('base64url');
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const key = await readFile(join(getCluster().runDir, 'pki', 'sa.key'), 'utf8');
  const sig = createSign('SHA256')
    .update(`${head}.${body}`)
    .sign({ key, dsaEncoding: 'ieee-p1363' })
    .toString('base64url');
  return `${head}.${body}.${sig}`;
}

/** A token that may read health data in `namespace` (RBAC get pods), audience bulkhead. */
export async function readerToken(namespace: string): Promise<string> {
  const rbac = getCluster().kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace,
    body: { metadata: { name: 'health-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'health-reader' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'health-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'health-reader', namespace }],
    },
  });
  return mintServiceAccountToken(getCluster().kubeConfig(), namespace, 'health-reader', { audiences: ['bulkhead'] });
}

export interface PodHealthView {
  namespace: string;
  pod: string;
  uid: string;
  droppedBySidecar: number;
  gaps: number;
  sidecar?: { instance: string };
  samples: { seq: number; time: string; probe: { ok: boolean; status?: number; error?: string; latencyMs: number } }[];
  events: { type: string; container?: string }[];
}

export async function readHealth(
  ingest: Ingest,
  token: string,
  q: { namespace: string; pod?: string },
): Promise<PodHealthView[]> {
  const qs = new URLSearchParams({ namespace: q.namespace, ...(q.pod ? { pod: q.pod } : {}) });
  const res = await httpsCall(`${ingest.url}/api/v1/health?${qs}`, { ca: ingest.tls.ca.cert, token });
  if (res.status !== 200) throw new Error(`GET /api/v1/health: ${res.status} ${res.body}`);
  return res.json<{ items: PodHealthView[] }>().items;
}

export interface TestApp {
  port: number;
  setMode(mode: AppMode): Promise<void>;
}

/**
 * What the app's /health does: ok (200), fail (500), hang (never answers), slow (200 after
 * 600 ms: slower than a latency limit, within the kubelet's default 1 s probe timeout), errors
 * (an error burst: two requests in three answer 500, never three in a row).
 */
export type AppMode = 'ok' | 'fail' | 'hang' | 'slow' | 'errors';

/** A real local HTTP app process: GET /health answers as its mode says (set on /control). */
export async function startApp(name = 'app'): Promise<TestApp> {
  const [port] = await freePorts(1);
  const script = `
    const http = require('node:http'); let mode = 'ok'; let n = 0;
    http.createServer((req, res) => {
      if (req.url.startsWith('/control')) { mode = new URL(req.url, 'http://x').searchParams.get('mode'); res.end(mode); return; }
      if (mode === 'hang') return;
      if (mode === 'slow') { setTimeout(() => res.writeHead(200).end(mode), 600); return; }
      if (mode === 'errors') { res.writeHead(n++ % 3 === 0 ? 200 : 500).end(mode); return; }
      res.writeHead(mode === 'ok' ? 200 : 500).end(mode);
    }).listen(${port}, '127.0.0.1', () => console.log('app listening'));`;
  const child = spawnLogged(name, await logFile(name), process.execPath, ['-e', script, `bulkhead-test-app-${port}`]);
  const call = (path: string): Promise<number> =>
    new Promise((ok, fail) => {
      httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        res.resume();
        res.on('end', () => ok(res.statusCode ?? 0));
      })
        .on('error', fail)
        .end();
    });
  await eventually(() => call('/control?mode=ok'), { what: `${name} listening`, timeoutMs: 10_000 });
  void child;
  return {
    port: port!,
    async setMode(mode) {
      await call(`/control?mode=${mode}`);
    },
  };
}

let bundle: Promise<string> | undefined;

export interface SidecarProc {
  process: ChildProcess;
  healthPort: number;
  tokenPath: string;
  health(): Promise<{
    status: string;
    buffered: number;
    dropped: number;
    delivered: number;
    seq: number;
    instance: string;
    lastProbe?: { ok: boolean };
  }>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * A sidecar's env for a test that wants to see probes and reports quickly: probe the app's
 * /health every 200 ms, report every 500 ms to `reportUrl`, trusting the engine's CA at `caPath`.
 */
export function quickSidecarEnv(appPort: number, reportUrl: string, caPath: string): Record<string, string> {
  return {
    BULKHEAD_PROBE_PORT: String(appPort),
    BULKHEAD_PROBE_PATH: '/health',
    BULKHEAD_PROBE_INTERVAL: '200ms',
    BULKHEAD_PROBE_TIMEOUT: '150ms',
    BULKHEAD_REPORT_INTERVAL: '500ms',
    BULKHEAD_REPORT_URL: reportUrl,
    BULKHEAD_CA_PATH: caPath,
  };
}

/** The bundled sidecar (dist/sidecar/sidecar.mjs, built once per run) as its own process. */
export async function startSidecar(
  pod: TestPod,
  token: string,
  env: Record<string, string>,
  name = 'sidecar',
): Promise<SidecarProc> {
  bundle ??= buildSidecar();
  const file = await bundle;
  const dir = await mkdtemp(join(tmpdir(), 'bulkhead-sidecar-'));
  const tokenPath = join(dir, 'token');
  await writeFile(tokenPath, token);
  const [healthPort] = await freePorts(1);
  const child = spawnLogged(name, await logFile(name), process.execPath, [file], {
    BULKHEAD_POD_NAME: pod.name,
    BULKHEAD_POD_NAMESPACE: pod.namespace,
    BULKHEAD_POD_UID: pod.uid,
    BULKHEAD_TOKEN_PATH: tokenPath,
    BULKHEAD_HEALTH_PORT: String(healthPort),
    ...env,
  });
  const health = async (): Promise<Awaited<ReturnType<SidecarProc['health']>>> =>
    new Promise((ok, fail) => {
      httpRequest({ host: '127.0.0.1', port: healthPort, path: '/healthz', agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          try {
            ok(JSON.parse(body));
          } catch (err) {
            fail(err);
          }
        });
      })
        .on('error', fail)
        .end();
    });
  await eventually(health, { what: `${name} /healthz`, timeoutMs: 10_000 });
  return {
    process: child,
    healthPort: healthPort!,
    tokenPath,
    health,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}
