import { readFile, rm, mkdir, writeFile, readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { startLocalCluster, type ClusterState } from './index.js';
import { signalGroup } from './managed-process.js';
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

async function isOurs(pid: number, binary: string): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.split('\0')[0] === binary;
}

export const registerLocalClusterCommand: CommandRegistrar = (program: Command, setExit) => {
  const lc = program
    .command('local-cluster')
    .description('a real local Kubernetes control plane built from Go modules (no Docker)');

  lc.command('up')
    .description(
      'start etcd + kube-apiserver (and with --workloads: controller-manager, scheduler, kwok nodes), detached',
    )
    .option('--name <name>', 'cluster name, so several can run at once', 'default')
    .option('--workloads', 'also run kube-controller-manager, kube-scheduler and kwok so pods become Running', false)
    .option('--nodes <n>', 'kwok fake nodes (with --workloads)', (v) => Number.parseInt(v, 10), 2)
    .action(async (o: { name: string; workloads: boolean; nodes: number }) => {
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
        nodes: o.nodes,
        ...(process.env.BULKHEAD_BIN_DIR ? { binDir: process.env.BULKHEAD_BIN_DIR } : {}),
        onProgress: (l) => process.stderr.write(`  ${l}\n`),
      });
      const state: ClusterState = {
        runDir: cluster.runDir,
        kubeconfig: cluster.kubeconfigPath,
        server: cluster.server,
        processes: JSON.parse(
          await readFile(join(cluster.runDir, 'state.json'), 'utf8').catch(() => '{"processes":[]}'),
        ).processes,
      };
      await mkdir(stateDir(), { recursive: true });
      await writeFile(join(stateDir(), `${name}.json`), JSON.stringify(state, null, 2));
      process.stdout.write(
        `cluster "${name}" is up at ${cluster.server} (${(cluster.startupMs / 1000).toFixed(1)}s)\n` +
          `  export KUBECONFIG=${cluster.kubeconfigPath}\n` +
          `  export PATH=${cluster.binDir}:$PATH   # kubectl\n` +
          `  stop it with: bulkhead local-cluster down --name ${name}\n`,
      );
    });

  lc.command('down')
    .description('stop a cluster started with `up` and remove its files')
    .option('--name <name>', 'cluster name', 'default')
    .action(async (o: { name: string }) => {
      const state = await readState(o.name);
      if (!state) {
        process.stderr.write(`no cluster "${o.name}" is up\n`);
        setExit(2);
        return;
      }
      for (const p of [...state.processes].reverse()) if (await isOurs(p.pid, p.binary)) signalGroup(p.pid, 'SIGTERM');
      const deadline = Date.now() + 10_000;
      for (const p of state.processes) {
        while ((await isOurs(p.pid, p.binary)) && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 100));
        if (await isOurs(p.pid, p.binary)) signalGroup(p.pid, 'SIGKILL');
      }
      await rm(state.runDir, { recursive: true, force: true });
      await rm(join(stateDir(), `${validName(o.name)}.json`), { force: true });
      process.stdout.write(`cluster "${o.name}" stopped\n`);
    });

  lc.command('env')
    .description('print the shell line that points kubectl at a cluster started with `up`')
    .option('--name <name>', 'cluster name', 'default')
    .action(async (o: { name: string }) => {
      const state = await readState(o.name);
      if (!state) {
        process.stderr.write(`no cluster "${o.name}" is up\n`);
        setExit(2);
        return;
      }
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
