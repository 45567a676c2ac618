import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadAll } from 'js-yaml';
import { serviceAccountKubeConfig } from '../../tools/local-cluster/index.js';
import { DEFAULT_ENGINE_NAMESPACE } from '../../engine/src/core/api/index.js';
import { serverSideApply } from '../../engine/src/core/kube/apply.js';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { ResourceResolver, type KubeObject } from '../../engine/src/core/kube/resources.js';
import { eventually } from './eventually.js';
import { getCluster, registerLogFile } from './state.js';

const RBAC_DIR = resolve('deploy/rbac');
/** The namespace deploy/ installs into: the engine's default one. */
const DEPLOY_NAMESPACE = DEFAULT_ENGINE_NAMESPACE;

/**
 * Installs deploy/rbac/ as it ships, re-targeted at a test namespace: the namespace is swapped
 * and cluster-scoped names get the namespace as suffix (so test files never share a binding).
 * Rules are not touched: the engine runs with exactly the permissions it ships with.
 * Returns a kubeconfig file acting as the engine's ServiceAccount.
 */
export async function installEngineRbac(
  namespace: string,
): Promise<{ kubeconfigPath: string; serviceAccount: string }> {
  const cluster = getCluster();
  const admin = new KubeClient(cluster.kubeConfig());
  const resolver = new ResourceResolver(admin);
  try {
    const files = (await readdir(RBAC_DIR)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
    for (const f of files) {
      for (const doc of loadAll(await readFile(join(RBAC_DIR, f), 'utf8'))) {
        if (!doc) continue;
        const obj = retarget(doc as KubeObject, namespace);
        await serverSideApply(admin, resolver, obj, { force: true });
      }
    }
  } finally {
    admin.close();
  }
  const sa = 'bulkhead-engine';
  const { yaml } = await serviceAccountKubeConfig(cluster.kubeConfig(), cluster, namespace, sa);
  const dir = await mkdtemp(join(tmpdir(), 'bulkhead-engine-kc-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, yaml, { mode: 0o600 });
  return { kubeconfigPath, serviceAccount: sa };
}

function retarget(obj: KubeObject, ns: string): KubeObject {
  const o = JSON.parse(JSON.stringify(obj)) as KubeObject & {
    subjects?: { namespace?: string }[];
    roleRef?: { kind: string; name: string };
  };
  // Objects outside the engine's namespace (cluster-scoped, or the Events Role in "default")
  // are shared by every test file: they get the test namespace as a name suffix instead.
  const shared =
    o.kind === 'ClusterRole' ||
    o.kind === 'ClusterRoleBinding' ||
    (o.metadata.namespace !== undefined && o.metadata.namespace !== DEPLOY_NAMESPACE);
  if (shared) o.metadata.name = `${o.metadata.name}-${ns}`;
  else o.metadata.namespace = ns;
  for (const s of o.subjects ?? []) if (s.namespace === DEPLOY_NAMESPACE) s.namespace = ns;
  if (o.roleRef && shared) o.roleRef.name = `${o.roleRef.name}-${ns}`;
  return o;
}

export interface EngineProcess {
  name: string;
  url: string;
  pid: number;
  logFile: string;
  log(): Promise<string>;
  /** Parsed JSON log lines. */
  logLines(): Promise<Record<string, unknown>[]>;
  kill(signal?: NodeJS.Signals): void;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Starts `bulkhead run` as a real child process (the CLI entry, through tsx) acting as the
 * engine ServiceAccount. Its log goes to a file registered for the failure dump; resolves when
 * the engine logs its URL.
 */
export async function startEngineProcess(opts: {
  name: string;
  kubeconfigPath: string;
  namespace: string;
  args?: string[];
  env?: Record<string, string>;
}): Promise<EngineProcess> {
  const dir = await mkdtemp(join(tmpdir(), `bulkhead-${opts.name}-`));
  const logFile = join(dir, 'engine.log');
  const out = createWriteStream(logFile);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      resolve('bin/bulkhead.js'),
      'run',
      '--kubeconfig',
      opts.kubeconfigPath,
      '--namespace',
      opts.namespace,
      '--identity',
      opts.name,
      '--listen',
      '127.0.0.1:0',
      '--cache-dir',
      join(dir, 'cache'),
      '--log-level',
      'debug',
      ...(opts.args ?? []),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...opts.env },
    },
  );
  child.stdout!.pipe(out, { end: false });
  child.stderr!.pipe(out, { end: false });
  registerLogFile(`engine ${opts.name}`, logFile);
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  const log = (): Promise<string> => readFile(logFile, 'utf8').catch(() => '');
  const logLines = async (): Promise<Record<string, unknown>[]> =>
    (await log())
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      });
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  const url = await eventually(
    async () => {
      if (exitCode !== undefined) throw new Error(`engine exited with ${exitCode}: ${(await log()).slice(-2000)}`);
      const started = (await logLines()).find((l) => l.msg === 'engine started');
      if (!started) throw new Error('engine not started yet');
      return started.url as string;
    },
    { timeoutMs: 30_000, what: `engine ${opts.name} started` },
  ).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    name: opts.name,
    url,
    pid: child.pid!,
    logFile,
    log,
    logLines,
    kill: (signal = 'SIGTERM') => {
      if (exitCode === undefined) child.kill(signal);
    },
    exited,
    stop: async () => {
      if (exitCode === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      out.end();
    },
  };
}
