import { readFile, rm, mkdir, writeFile, readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { startLocalCluster, type ClusterState } from './index.js';
import { signalGroup } from './managed-process.js';
import { runs } from './pids.mjs';
import { teardownHost, type HostRecord } from './real-node/host-network.js';

type NodesFlag = { kind: 'kwok' | 'real'; count: number };

/** `3` → three kwok nodes; `real` / `real:2` → real nodes. */
export function parseNodes(v: string): NodesFlag {
  const m = /^(?:(real)(?::(\d+))?|(\d+))$/.exec(v);
  if (!m) throw new Error(`--nodes takes a number (kwok nodes) or real[:n], not "${v}"`);
  return m[1] ? { kind: 'real', count: Number(m[2] ?? 1) } : { kind: 'kwok', count: Number(m[3]) };
}
import type { CommandRegistrar } from '../../engine/src/cli/command.js';

/** Where `up` records a detached cluster so `down` and `env` can find it later. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.BULKHEAD_STATE_DIR ?? join(env.BULKHEAD_CACHE_DIR ?? join(homedir(), '.cache', 'bulkhead'), 'clusters');
}

const validName = (name: string): string => {
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(name))
    throw new Error(`invalid cluster name "${name}": use lowercase letters, digits and dashes`);
  return name;
};

async function readState(name: string): Promise<ClusterState | null> {
  try {
    return JSON.parse(await readFile(join(stateDir(), `${validName(name)}.json`), 'utf8')) as ClusterState;
  } catch {
    return null;
  }
}

export const registerLocalClusterCommand: CommandRegistrar = (program: Command, setExit) => {
  /** The state of a cluster `up` started; when there is none, says so and exits 2. */
  const upCluster = async (name: string): Promise<ClusterState | null> => {
    const state = await readState(name);
    if (!state) {
      process.stderr.write(`no cluster "${name}" is up\n`);
      setExit(2);
    }
    return state;
  };

  const lc = program
    .command('local-cluster')
    .description('a real local Kubernetes control plane built from Go modules (no Docker)');

  lc.command('up')
    .description(
      'start etcd + kube-apiserver (and with --workloads: controller-manager, scheduler, kwok nodes), detached',
    )
    .option('--name <name>', 'cluster name, so several can run at once', 'default')
    .option('--workloads', 'also run kube-controller-manager, kube-scheduler and kwok so pods become Running', false)
    .option(
      '--nodes <n|real:n>',
      'kwok fake nodes (with --workloads), or real:<n> real nodes (root on Linux; containers run, NetworkPolicy is enforced)',
      parseNodes,
      { kind: 'kwok', count: 2 } as NodesFlag,
    )
    .action(async (o: { name: string; workloads: boolean; nodes: NodesFlag }) => {
      const name = validName(o.name);
      if (await readState(name)) {
        process.stderr.write(
          `cluster "${name}" is already up; run \`bulkhead local-cluster down --name ${name}\` first\n`,
        );
        setExit(2);
        return;
      }
      const cluster = await startLocalCluster({
        detached: true,
        workloads: o.workloads,
        ...(o.nodes.kind === 'real' ? { realNodes: o.nodes.count } : { nodes: o.nodes.count }),
        ...(process.env.BULKHEAD_BIN_DIR ? { binDir: process.env.BULKHEAD_BIN_DIR } : {}),
        onProgress: (l) => process.stderr.write(`  ${l}\n`),
      });
      const state: ClusterState = {
        runDir: cluster.runDir,
        kubeconfig: cluster.kubeconfigPath,
        server: cluster.server,
        ...(JSON.parse(
          await readFile(join(cluster.runDir, 'state.json'), 'utf8').catch(() => '{"processes":[]}'),
        ) as Pick<ClusterState, 'processes' | 'realNodeRecord'>),
      };
      await mkdir(stateDir(), { recursive: true });
      await writeFile(join(stateDir(), `${name}.json`), JSON.stringify(state, null, 2));
      process.stdout.write(
        `cluster "${name}" is up at ${cluster.server} (${(cluster.startupMs / 1000).toFixed(1)}s)` +
          (cluster.network ? `, ${cluster.nodeNames.length} real node(s): ${cluster.nodeNames.join(', ')}` : '') +
          '\n' +
          `  export KUBECONFIG=${cluster.kubeconfigPath}\n` +
          `  export PATH=${cluster.binDir}:$PATH   # kubectl\n` +
          `  stop it with: bulkhead local-cluster down --name ${name}\n`,
      );
    });

  lc.command('down')
    .description('stop a cluster started with `up` and remove its files')
    .option('--name <name>', 'cluster name', 'default')
    .action(async (o: { name: string }) => {
      const state = await upCluster(o.name);
      if (!state) return;
      for (const p of [...state.processes].reverse()) if (runs(p.pid, p.binary)) signalGroup(p.pid, 'SIGTERM');
      const deadline = Date.now() + 10_000;
      for (const p of state.processes) {
        while (runs(p.pid, p.binary) && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 100));
        if (runs(p.pid, p.binary)) signalGroup(p.pid, 'SIGKILL');
      }
      if (state.realNodeRecord) {
        const record = await readFile(state.realNodeRecord, 'utf8').catch(() => '');
        if (record) teardownHost(JSON.parse(record) as HostRecord);
      }
      await rm(state.runDir, { recursive: true, force: true });
      await rm(join(stateDir(), `${validName(o.name)}.json`), { force: true });
      process.stdout.write(`cluster "${o.name}" stopped\n`);
    });

  lc.command('env')
    .description('print the shell line that points kubectl at a cluster started with `up`')
    .option('--name <name>', 'cluster name', 'default')
    .action(async (o: { name: string }) => {
      const state = await upCluster(o.name);
      if (!state) return;
      process.stdout.write(`export KUBECONFIG=${state.kubeconfig}\n`);
    });

  lc.command('list')
    .description('list clusters started with `up`')
    .action(async () => {
      const files = await readdir(stateDir()).catch(() => [] as string[]);
      for (const f of files.filter((x) => x.endsWith('.json'))) {
        const s = JSON.parse(await readFile(join(stateDir(), f), 'utf8')) as ClusterState;
        process.stdout.write(`${f.slice(0, -5)}\t${s.server}\t${s.kubeconfig}\n`);
      }
    });
};
