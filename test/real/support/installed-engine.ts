// The engine installed into the shared real-node cluster exactly as a user installs it:
// `bulkhead install` (the CLI) of deploy/ as shipped, with the project's own images (imported
// into the nodes under the references deploy/ names, 2 replicas), syncing a policy repository
// served over real HTTPS smart-HTTP git from an address of its own on the cluster's bridge, port 443, with a
// token and the server's CA in a Secret the way a user configures a private repository.
// Nothing here sets an env var, flag or file on the engine that deploy/ does not set.
//
// One install per test run: every test file awaits `installedEngine()` and gets the same one.
// `uninstallInstalledEngine()` (the uninstall test) runs `bulkhead uninstall` and forgets the
// install, so a later `installedEngine()` installs again from scratch into the same cluster.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { DEFAULT_ENGINE_NAMESPACE } from '../../../engine/src/core/api/index.js';
import type { LocalCluster } from '../../../tools/local-cluster/index.js';
import { eventually } from '../../harness/eventually.js';
import { startGitHttpServer, type GitHttpServer } from '../../harness/git-http-server.js';
import { createTestRepo, git, type TestRepo } from '../../harness/git-repo.js';
import { kubectl, kubectlOk, type KubectlResult } from './kubectl.js';
import { getRealCluster } from './state.js';

/** What deploy/ installs: the engine's namespace, Deployment / Service name, and its pods' labels. */
export const ENGINE_NAMESPACE = DEFAULT_ENGINE_NAMESPACE;
export const ENGINE_NAME = 'bulkhead-engine';
export const ENGINE_SELECTOR = 'app.kubernetes.io/name=bulkhead,app.kubernetes.io/component=engine';
/** The PolicySource `bulkhead install --repo` creates (the CLI's default --source-name). */
export const SOURCE_NAME = 'default';
/** The PolicySource's fetch interval (`bulkhead install --interval`). */
export const SYNC_INTERVAL = '5s';
/** The Secret holding the repository's token and CA, created before install as the README says. */
export const REPO_SECRET = 'policy-repo';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The policy repository the installed engine syncs (and commits its records to). */
export interface PolicyRepo {
  /** https://<an address on the cluster bridge>/origin.git: what the PolicySource names. */
  readonly url: string;
  /**
   * Commits these files (null deletes) on top of whatever is on main now (the engine pushes
   * records there too) and pushes; returns the new head. Note the repository is
   * policy-repo-template/, whose bulkhead.yaml defaults policies to `mode: DryRun`: set
   * `action.mode: Enforce` in a policy that must act.
   */
  push(files: Record<string, string | null>, message?: string): Promise<string>;
  /** Waits until the installed engine has applied this revision (PolicySource Ready, lastAppliedRevision). */
  waitSynced(revision: string, timeoutMs?: number): Promise<void>;
  /** The files under `records/` on main as the remote has them now: path → content. */
  records(): Promise<Record<string, string>>;
  /** The commit subjects on main, newest first. */
  log(max?: number): Promise<string[]>;
  /** What the git server was asked (no credentials): proves the engine fetched and pushed over HTTPS. */
  readonly requests: GitHttpServer['requests'];
}

export interface InstalledEngine {
  readonly cluster: LocalCluster;
  readonly namespace: string;
  readonly repo: PolicyRepo;
  /** `bulkhead install`'s output. */
  readonly install: CliResult;
  /** kubectl as a user runs it against the cluster (admin), never throwing / throwing on failure. */
  kubectl(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<KubectlResult>;
  kubectlOk(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string>;
  /** The engine replicas' logs (last lines of each), for failure messages. */
  logs(tail?: number): Promise<string>;
  /**
   * One HTTPS request to the engine through its Service's ClusterIP (routed like any client's),
   * verified against the CA the webhooks carry, for the Service DNS name.
   */
  https(
    path: string,
    opts?: { method?: string; headers?: Record<string, string>; body?: string },
  ): Promise<{ status: number; body: string }>;
}

/** The checkout's CLI (`npx bulkhead`) against the cluster, as a user runs it. */
export function bulkhead(cluster: LocalCluster, args: string[], timeoutMs = 360_000): Promise<CliResult> {
  return new Promise((ok) => {
    execFile(
      process.execPath,
      [resolve('bin/bulkhead.js'), ...args, '--kubeconfig', cluster.kubeconfigPath],
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

interface Served {
  address: { host: string; remove(): Promise<void> };
  repo: TestRepo;
  server: GitHttpServer;
  token: string;
  handle: PolicyRepo;
}

let served: Promise<Served> | undefined;
let installed: Promise<InstalledEngine> | undefined;

/** The engine as `bulkhead install` left it: Available with 2 replicas, the repository synced, webhooks registered. */
export function installedEngine(): Promise<InstalledEngine> {
  installed ??= installOnce(getRealCluster()).catch((err: unknown) => {
    installed = undefined;
    throw err;
  });
  return installed;
}

/** `bulkhead uninstall` of the shared install; the next `installedEngine()` installs again. */
export async function uninstallInstalledEngine(args: string[] = []): Promise<CliResult> {
  const cluster = getRealCluster();
  if (installed) await installed.catch(() => undefined);
  installed = undefined;
  return bulkhead(cluster, ['uninstall', '--timeout', '3m', ...args]);
}

/** Fixture teardown: stops the git server and removes the repository (the cluster goes with its stop). */
export async function stopInstalledEngine(): Promise<void> {
  const s = await served?.catch(() => undefined);
  served = undefined;
  installed = undefined;
  if (!s) return;
  await s.server.close();
  await s.address.remove();
  await s.repo.remove();
}

/**
 * An address of its own on the cluster's bridge for the git server, so port 443 there is ours
 * even when a process from an earlier run of this slot still holds <bridge IP>:443 (a socket
 * outlives the address it was bound to). Pods reach every address of the bridge subnet; the
 * address goes with the bridge when the cluster stops, and stopInstalledEngine removes it first.
 */
async function bridgeAddress(cluster: LocalCluster): Promise<{ host: string; remove(): Promise<void> }> {
  const net = cluster.network;
  if (!net) throw new Error('the installed engine needs real nodes (the cluster has no bridge network)');
  const base = net.hostIp.split('.').slice(0, 3).join('.');
  const host = `${base}.${200 + (randomBytes(1)[0]! % 50)}`;
  const ip = (...args: string[]) =>
    new Promise<void>((ok, fail) =>
      execFile('ip', args, (err, _out, stderr) => (err ? fail(new Error(`ip ${args.join(' ')}: ${stderr}`)) : ok())),
    );
  await ip('addr', 'add', `${host}/32`, 'dev', net.bridge);
  return { host, remove: () => ip('addr', 'del', `${host}/32`, 'dev', net.bridge).catch(() => undefined) };
}

async function serveRepository(cluster: LocalCluster): Promise<Served> {
  const address = await bridgeAddress(cluster);
  const host = address.host;
  const repo = await createTestRepo('bulkhead-real-policies-');
  // A repository made the way the README says: a copy of policy-repo-template/.
  await cp('policy-repo-template', repo.workDir, { recursive: true });
  await repo.commit({}, 'policies from policy-repo-template');
  const token = randomBytes(24).toString('hex');
  // Pods reach the bridge's addresses; 443 is what the engine's NetworkPolicy admits for git.
  const server = await startGitHttpServer({ projectRoot: dirname(repo.bareDir), token, host, port: 443 }).catch(
    async (err: unknown) => {
      await address.remove();
      throw err;
    },
  );
  const url = `${server.url}/${basename(repo.bareDir)}`;
  const fetchMain = () => git(repo.workDir, 'fetch', '--quiet', 'origin', 'main');
  const handle: PolicyRepo = {
    url,
    requests: server.requests,
    async push(files, message = 'update policies') {
      // The engine pushes records to main: build on the remote's main, retry on a race.
      return eventually(
        async () => {
          await fetchMain();
          await git(repo.workDir, 'reset', '--quiet', '--hard', 'origin/main');
          return repo.commit(files, message);
        },
        { what: 'policy commit pushed', timeoutMs: 30_000, intervalMs: 300 },
      );
    },
    async waitSynced(revision, timeoutMs = 120_000) {
      await eventually(
        async () => {
          const ps = JSON.parse(
            await kubectlOk(cluster, ['get', 'policysource', SOURCE_NAME, '-o', 'json']),
          ) as PolicySourceState;
          const ready = ps.status?.conditions?.find((c) => c.type === 'Ready');
          if (!ps.status?.lastAppliedRevision?.includes(revision) || ready?.status !== 'True')
            throw new Error(`PolicySource ${SOURCE_NAME}: ${JSON.stringify(ps.status ?? {})}`);
        },
        { what: `revision ${revision.slice(0, 12)} applied`, timeoutMs, intervalMs: 500 },
      );
    },
    async records() {
      await fetchMain();
      const files = (await git(repo.workDir, 'ls-tree', '-r', '--name-only', 'origin/main', '--', 'records/'))
        .split('\n')
        .filter((f) => f && !f.endsWith('README.md'));
      const out: Record<string, string> = {};
      for (const f of files) out[f] = await git(repo.workDir, 'show', `origin/main:${f}`);
      return out;
    },
    async log(max = 20) {
      await fetchMain();
      return (await git(repo.workDir, 'log', `-${max}`, '--format=%s', 'origin/main')).split('\n');
    },
  };
  return { repo, server, token, handle, address };
}

interface PolicySourceState {
  status?: { lastAppliedRevision?: string; conditions?: { type: string; status: string; message?: string }[] };
}

async function installOnce(cluster: LocalCluster): Promise<InstalledEngine> {
  served ??= serveRepository(cluster).catch((err: unknown) => {
    served = undefined;
    throw err;
  });
  const s = await served;
  const k = (args: string[], opts?: { input?: string; timeoutMs?: number }) => kubectl(cluster, args, opts);
  const kOk = (args: string[], opts?: { input?: string; timeoutMs?: number }) => kubectlOk(cluster, args, opts);

  // A private repository, as the README says: the namespace and the credentials Secret first,
  // then one `bulkhead install` that names them (the PolicySource exists before the engine's
  // guard does). The Secret is applied, so a re-install after an uninstall re-creates it.
  await kOk(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ENGINE_NAMESPACE } }),
  });
  const dir = await mkdtemp(join(tmpdir(), 'bulkhead-real-install-'));
  try {
    await writeFile(join(dir, 'ca.crt'), s.server.caCert);
    await writeFile(join(dir, 'token'), s.token);
    const secret = await kOk([
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
    await kOk(['apply', '-f', '-'], { input: secret });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const install = await bulkhead(cluster, [
    'install',
    '--repo',
    s.handle.url,
    '--ref',
    'main',
    '--path',
    '.',
    '--secret',
    REPO_SECRET,
    // A user's choice (push webhooks are off without Secret bulkhead-webhook): policy changes
    // reach the cluster within seconds, not the default minute.
    '--interval',
    SYNC_INTERVAL,
    '--timeout',
    '5m',
  ]);
  if (install.code !== 0) throw new Error(`bulkhead install failed\n${showCli(install)}`);

  const engine: InstalledEngine = {
    cluster,
    namespace: ENGINE_NAMESPACE,
    repo: s.handle,
    install,
    kubectl: k,
    kubectlOk: kOk,
    logs: async (tail = 80) =>
      (
        await k([
          'logs',
          '-n',
          ENGINE_NAMESPACE,
          '-l',
          ENGINE_SELECTOR,
          '--prefix',
          `--tail=${tail}`,
          '--max-log-requests=4',
        ])
      ).stdout,
    https: (path, opts = {}) => throughService(cluster, path, opts),
  };
  // Ready for the tests: the template's policies applied, both webhook configurations registered.
  await s.handle.waitSynced(await s.repo.head(), 180_000).catch(async (err: unknown) => {
    throw new Error(`${String(err)}\n--- engine logs\n${await engine.logs()}`);
  });
  await eventually(
    async () => {
      await kOk(['get', 'validatingwebhookconfiguration', 'bulkhead-guard']);
      await kOk(['get', 'mutatingwebhookconfiguration', 'bulkhead-inject']);
    },
    { what: 'webhook configurations registered', timeoutMs: 60_000, intervalMs: 500 },
  );
  return engine;
}

async function throughService(
  cluster: LocalCluster,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  const svc = JSON.parse(
    await kubectlOk(cluster, ['get', 'svc', '-n', ENGINE_NAMESPACE, ENGINE_NAME, '-o', 'json']),
  ) as {
    spec: { clusterIP: string; ports: { name: string; port: number }[] };
  };
  const port = svc.spec.ports.find((p) => p.name === 'https')?.port ?? 8443;
  const ca = Buffer.from(
    (
      await kubectlOk(cluster, [
        'get',
        'validatingwebhookconfiguration',
        'bulkhead-guard',
        '-o',
        'jsonpath={.webhooks[0].clientConfig.caBundle}',
      ])
    ).trim(),
    'base64',
  ).toString('utf8');
  return new Promise((ok, fail) => {
    const req = request(
      {
        host: svc.spec.clusterIP,
        port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.headers ?? {},
        ca,
        // Verified for the Service DNS name, as the apiserver and the sidecars verify it.
        servername: `${ENGINE_NAME}.${ENGINE_NAMESPACE}.svc`,
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
