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
import { randomBytes } from 'node:crypto';
import { cp } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { LocalCluster } from '../../../tools/local-cluster/index.js';
import {
  bridgeAddress,
  bulkhead,
  engineHttps,
  engineLogs,
  ENGINE_NAMESPACE,
  installShipped,
  policySourceState,
  SOURCE_NAME,
  type CliResult,
} from '../../../tools/shipped-install/index.js';
import { eventually } from '../../harness/eventually.js';
import { startGitHttpServer, type GitHttpServer } from '../../harness/git-http-server.js';
import { createTestRepo, git, type TestRepo } from '../../harness/git-repo.js';
import { kubectl, kubectlOk, type KubectlResult } from './kubectl.js';
import { getRealCluster } from './state.js';

// The install steps themselves live in tools/shipped-install/ (the real-node demo runs them too).
export {
  bulkhead,
  ENGINE_NAME,
  ENGINE_NAMESPACE,
  ENGINE_SELECTOR,
  REPO_SECRET,
  showCli,
  SOURCE_NAME,
  type CliResult,
} from '../../../tools/shipped-install/index.js';

/** The PolicySource's fetch interval (`bulkhead install --interval`). */
export const SYNC_INTERVAL = '5s';

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
          const ps = await policySourceState(cluster);
          if (!ps.lastAppliedRevision?.includes(revision) || !ps.ready)
            throw new Error(`PolicySource ${SOURCE_NAME}: ${JSON.stringify(ps.status)}`);
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

async function installOnce(cluster: LocalCluster): Promise<InstalledEngine> {
  served ??= serveRepository(cluster).catch((err: unknown) => {
    served = undefined;
    throw err;
  });
  const s = await served;
  const k = (args: string[], opts?: { input?: string; timeoutMs?: number }) => kubectl(cluster, args, opts);
  const kOk = (args: string[], opts?: { input?: string; timeoutMs?: number }) => kubectlOk(cluster, args, opts);

  // A private repository, as the README says: the credentials Secret, then `bulkhead install`,
  // with a user's choice of --interval (push webhooks are off without Secret bulkhead-webhook):
  // policy changes reach the cluster within seconds, not the default minute.
  const install = await installShipped(cluster, {
    url: s.handle.url,
    token: s.token,
    caCert: s.server.caCert,
    interval: SYNC_INTERVAL,
  });

  const engine: InstalledEngine = {
    cluster,
    namespace: ENGINE_NAMESPACE,
    repo: s.handle,
    install,
    kubectl: k,
    kubectlOk: kOk,
    logs: (tail = 80) => engineLogs(cluster, tail),
    https: (path, opts = {}) => engineHttps(cluster, path, opts),
  };
  // Ready for the tests: the template's policies applied, the guard and the injection registered
  // on the path the engine took (ADR 1700: auto takes the admission policies on 1.36).
  await s.handle.waitSynced(await s.repo.head(), 180_000).catch(async (err: unknown) => {
    throw new Error(`${String(err)}\n--- engine logs\n${await engine.logs()}`);
  });
  await eventually(
    async () => {
      const hooks = await k([
        'get',
        'validatingwebhookconfiguration/bulkhead-guard',
        'mutatingwebhookconfiguration/bulkhead-inject',
      ]);
      if (hooks.code === 0) return;
      await kOk([
        'get',
        'validatingadmissionpolicybinding/bulkhead-guard',
        'mutatingadmissionpolicybinding/bulkhead-inject',
      ]);
    },
    { what: 'admission (webhook configurations or admission policies) registered', timeoutMs: 60_000, intervalMs: 500 },
  );
  return engine;
}
