// The engine installed into a local real-node cluster exactly as a user installs it: the
// repository's credentials Secret first, then one `bulkhead install` (the CLI, deploy/ as
// shipped) naming a private HTTPS policy repository. Shared by the real-node tests
// (test/real/support/installed-engine.ts) and the real-node demo (tools/demo/real-story.ts),
// so both run what a user runs. Nothing here sets an env var, flag or file on the engine that
// deploy/ does not set.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ENGINE_NAMESPACE } from '../../engine/src/core/api/index.js';
import type { LocalCluster } from '../local-cluster/index.js';
import { kubectl, kubectlOk } from './kubectl.js';

const repoRoot = resolve(fileURLToPath(new URL('../../', import.meta.url)));

/** What deploy/ installs: the engine's namespace, Deployment / Service name, and its pods' labels. */
export const ENGINE_NAMESPACE = DEFAULT_ENGINE_NAMESPACE;
export const ENGINE_NAME = 'bulkhead-engine';
export const ENGINE_SELECTOR = 'app.kubernetes.io/name=bulkhead,app.kubernetes.io/component=engine';
/** The PolicySource `bulkhead install --repo` creates (the CLI's default --source-name). */
export const SOURCE_NAME = 'default';
/** The Secret holding the repository's token and CA, created before install as the README says. */
export const REPO_SECRET = 'policy-repo';
/** The dashboard's token, which `bulkhead install` creates. */
export const DASHBOARD_SECRET = 'bulkhead-dashboard';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The checkout's CLI (bin/bulkhead.js) against the cluster, as a user runs it. */
export function bulkhead(cluster: LocalCluster, args: string[], timeoutMs = 360_000): Promise<CliResult> {
  return new Promise((ok) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'bulkhead.js'), ...args, '--kubeconfig', cluster.kubeconfigPath],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeout: timeoutMs, maxBuffer: 8 << 20 },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        ok({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

export const showCli = (r: CliResult): string => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** A private policy repository as the engine reaches it: its HTTPS URL, a token and the server's CA. */
export interface PrivateRepository {
  url: string;
  token: string;
  caCert: string;
  /** `bulkhead install --interval`: the PolicySource's fetch interval (the CRD's default 1m when absent). */
  interval?: string;
}

/**
 * The README's private-repository install: the engine's namespace and the credentials Secret
 * (applied, so a re-install after an uninstall re-creates it), then `bulkhead install --repo`
 * naming them. Throws with the CLI's output when install fails.
 */
export async function installShipped(cluster: LocalCluster, repo: PrivateRepository): Promise<CliResult> {
  await kubectlOk(cluster, ['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ENGINE_NAMESPACE } }),
  });
  const dir = await mkdtemp(join(tmpdir(), 'bulkhead-install-'));
  try {
    await writeFile(join(dir, 'ca.crt'), repo.caCert);
    await writeFile(join(dir, 'token'), repo.token, { mode: 0o600 });
    const secret = await kubectlOk(cluster, [
      'create',
      'secret',
      'generic',
      REPO_SECRET,
      '-n',
      ENGINE_NAMESPACE,
      `--from-file=token=${join(dir, 'token')}`,
      `--from-file=ca.crt=${join(dir, 'ca.crt')}`,
      '--dry-run=client',
      '-o',
      'json',
    ]);
    await kubectlOk(cluster, ['apply', '-f', '-'], { input: secret });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const install = await bulkhead(cluster, [
    'install',
    '--repo',
    repo.url,
    '--ref',
    'main',
    '--path',
    '.',
    '--secret',
    REPO_SECRET,
    ...(repo.interval ? ['--interval', repo.interval] : []),
    '--timeout',
    '5m',
  ]);
  if (install.code !== 0) throw new Error(`bulkhead install failed\n${showCli(install)}`);
  return install;
}

/** The engine replicas' logs (last lines of each). */
export async function engineLogs(cluster: LocalCluster, tail = 80): Promise<string> {
  return (
    await kubectl(cluster, [
      'logs',
      '-n',
      ENGINE_NAMESPACE,
      '-l',
      ENGINE_SELECTOR,
      '--prefix',
      `--tail=${tail}`,
      '--max-log-requests=4',
    ])
  ).stdout;
}

/** The PolicySource's applied revision and Ready condition. */
export async function policySourceState(
  cluster: LocalCluster,
): Promise<{ lastAppliedRevision?: string; ready: boolean; status: unknown }> {
  const ps = JSON.parse(await kubectlOk(cluster, ['get', 'policysource', SOURCE_NAME, '-o', 'json'])) as {
    status?: { lastAppliedRevision?: string; conditions?: { type: string; status: string }[] };
  };
  return {
    ...(ps.status?.lastAppliedRevision ? { lastAppliedRevision: ps.status.lastAppliedRevision } : {}),
    ready: ps.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True',
    status: ps.status ?? {},
  };
}

/** Where the engine's HTTPS listener is reached through its Service, and the CA that verifies it. */
export async function engineEndpoint(cluster: LocalCluster): Promise<{ url: string; ca: string; servername: string }> {
  const svc = JSON.parse(
    await kubectlOk(cluster, ['get', 'svc', '-n', ENGINE_NAMESPACE, ENGINE_NAME, '-o', 'json']),
  ) as {
    spec: { clusterIP: string; ports: { name: string; port: number }[] };
  };
  const port = svc.spec.ports.find((p) => p.name === 'https')?.port ?? 8443;
  const ca = Buffer.from(
    // The engine's TLS Secret: the bundle either admission path trusts (the policy path, ADR
    // 1700, registers no webhook configuration to read it from).
    (
      await kubectlOk(cluster, [
        'get',
        'secret',
        '-n',
        ENGINE_NAMESPACE,
        'bulkhead-webhook-tls',
        '-o',
        'jsonpath={.data.ca\\.crt}',
      ])
    ).trim(),
    'base64',
  ).toString('utf8');
  return {
    url: `https://${svc.spec.clusterIP}:${port}`,
    ca,
    // Verified for the Service DNS name, as the apiserver and the sidecars verify it.
    servername: `${ENGINE_NAME}.${ENGINE_NAMESPACE}.svc`,
  };
}

/** One HTTPS request to the engine through its Service's ClusterIP (routed like any client's). */
export async function engineHttps(
  cluster: LocalCluster,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string }> {
  const at = await engineEndpoint(cluster);
  const u = new URL(at.url);
  return new Promise((ok, fail) => {
    const req = request(
      {
        host: u.hostname,
        port: Number(u.port),
        path,
        method: opts.method ?? 'GET',
        headers: opts.headers ?? {},
        ca: at.ca,
        servername: at.servername,
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${path} through the Service timed out`)));
    req.on('error', fail);
    req.end(opts.body);
  });
}
