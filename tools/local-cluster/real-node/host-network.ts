import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { errorMessage } from '../../../engine/src/core/errors.js';
import { MAX_SLOTS, planNetwork, type NetworkPlan } from './network-plan.js';
// Plain JavaScript shared with the reaper; typed by host-teardown.d.mts.
import {
  MACHINE_DIR,
  SYSCTL_RECORD,
  cgroupHierarchies,
  readSysctl,
  slotLive,
  slotRecord,
  teardownHost,
  type HostRecord,
} from './host-teardown.mjs';

export { teardownHost };
export type { HostRecord };

const exec = promisify(execFile);

/**
 * Host sysctls recorded before the first real-node cluster starts and restored when the last
 * one stops. kubelet sets the first six at start (its "kernel tunables"); the rest are read
 * back by the leftovers test so that a change by any component would show.
 */
export const RECORDED_SYSCTLS = [
  'vm.overcommit_memory',
  'vm.panic_on_oom',
  'kernel.panic',
  'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys',
  'kernel.keys.root_maxbytes',
  'net.ipv4.ip_forward',
  'net.bridge.bridge-nf-call-iptables',
  'net.bridge.bridge-nf-call-ip6tables',
  'net.netfilter.nf_conntrack_max',
];

async function ip(...args: string[]): Promise<void> {
  try {
    await exec('ip', args);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  }
}

/** Takes the first free slot (an atomic mkdir), reclaiming slots whose cluster is gone. */
async function takeSlot(runDir: string): Promise<{ slot: number; slotDir: string }> {
  const slots = join(MACHINE_DIR, 'slots');
  await mkdir(slots, { recursive: true });
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    const slotDir = join(slots, String(slot));
    if (existsSync(slotDir) && !slotLive(slotDir)) {
      // A cluster that died without its reaper (machine restart, kill -9 of both): clean its
      // leftovers by its record, then reuse the slot.
      const stale = slotRecord(slotDir);
      if (stale) teardownHost(stale, { graceMs: 0 });
      else await rm(slotDir, { recursive: true, force: true });
    }
    // Filled in first, then renamed into place: a slot never exists without its owner and
    // launcher, so a concurrent start cannot take a slot being taken for a stale one.
    const fresh = await mkdtemp(join(slots, '.new-'));
    await writeFile(join(fresh, 'owner'), runDir);
    await writeFile(join(fresh, 'launcher'), String(process.pid));
    try {
      await rename(fresh, slotDir);
    } catch {
      await rm(fresh, { recursive: true, force: true });
      continue;
    }
    return { slot, slotDir };
  }
  throw new Error(`all ${MAX_SLOTS} real-node cluster slots are in use on this machine`);
}

/** Written once per machine, by the first cluster up (exclusive create), read by the last one down. */
async function recordMachineState(): Promise<void> {
  const sysctls = Object.fromEntries(RECORDED_SYSCTLS.map((k) => [k, readSysctl(k)]));
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const state = {
    sysctls,
    netnsDirExisted: existsSync('/run/netns'),
    netnsDirWasMount: mountinfo.split('\n').some((l) => l.split(' ')[4] === '/run/netns'),
  };
  await writeFile(SYSCTL_RECORD, JSON.stringify(state, null, 2), { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
}

export interface HostNetwork {
  plan: NetworkPlan;
  record: HostRecord;
  recordFile: string;
  /** Adds a started host process to the record (the reaper kills by it). */
  addProcess(p: { name: string; pid: number; binary: string }): Promise<void>;
}

/**
 * Creates the cluster's network on the host: a bridge with the host address, and per node a
 * network namespace joined to it by a veth, with routes to the other nodes' pod subnets.
 * The host routes pod subnets and the Service range through the nodes (the apiserver calls
 * webhooks by ClusterIP). Each node's cgroup root is made in every hierarchy (cpuset's
 * cpus/mems copied from the root, or nothing could join it). Everything is in the record
 * before it is made, so a failure half-way is torn down like a whole cluster.
 */
export async function createHostNetwork(runDir: string, nodeCount: number): Promise<HostNetwork> {
  const dir = join(runDir, 'real-node');
  await mkdir(dir, { recursive: true });
  const recordFile = join(dir, 'host-record.json');
  const { slot, slotDir } = await takeSlot(runDir);
  const plan = planNetwork(slot, nodeCount);
  const record: HostRecord = {
    slot,
    slotDir,
    runDir,
    bridge: plan.bridge,
    netns: plan.nodes.map((n) => n.netns),
    cgroupRoots: plan.nodes.map((n) => n.cgroupRoot),
    processes: [],
  };
  const save = () => writeFile(recordFile, JSON.stringify(record, null, 2));
  await save();
  try {
    await recordMachineState();
    await ip('link', 'add', plan.bridge, 'type', 'bridge');
    await ip('addr', 'add', `${plan.hostIp}/${plan.hostPrefix}`, 'dev', plan.bridge);
    await ip('link', 'set', plan.bridge, 'up');
    for (const n of plan.nodes) {
      await ip('netns', 'add', n.netns);
      await ip('link', 'add', n.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.netns);
      await ip('link', 'set', n.hostVeth, 'master', plan.bridge, 'up');
      await ip('-n', n.netns, 'link', 'set', 'lo', 'up');
      await ip('-n', n.netns, 'addr', 'add', `${n.ip}/${plan.hostPrefix}`, 'dev', 'eth0');
      await ip('-n', n.netns, 'link', 'set', 'eth0', 'up');
      // Locally generated packets to a ClusterIP need a route before kube-proxy's DNAT.
      await ip('-n', n.netns, 'route', 'add', plan.serviceCidr, 'via', plan.hostIp);
      for (const other of plan.nodes) {
        if (other !== n) await ip('-n', n.netns, 'route', 'add', other.podCidr, 'via', other.ip);
      }
      // On the bridge device: deleted with it.
      await ip('route', 'add', n.podCidr, 'via', n.ip, 'dev', plan.bridge);
    }
    await ip('route', 'add', plan.serviceCidr, 'via', plan.nodes[0]!.ip, 'dev', plan.bridge);
    for (const h of cgroupHierarchies()) {
      for (const n of plan.nodes) {
        const d = join(h, n.cgroupRoot);
        await mkdir(d, { recursive: true });
        if (existsSync(join(h, 'cpuset.cpus'))) {
          await writeFile(join(d, 'cpuset.cpus'), await readFile(join(h, 'cpuset.cpus'), 'utf8'));
          await writeFile(join(d, 'cpuset.mems'), await readFile(join(h, 'cpuset.mems'), 'utf8'));
        }
      }
    }
  } catch (err) {
    teardownHost(record, { graceMs: 0 });
    throw err;
  }
  return {
    plan,
    record,
    recordFile,
    async addProcess(p) {
      record.processes.push(p);
      await save();
    },
  };
}

/** For the leftovers test: what a cluster could leave behind on this host, as comparable text. */
export async function hostSnapshot(): Promise<Record<string, string>> {
  const run = async (cmd: string, args: string[]) => {
    try {
      return (await exec(cmd, args)).stdout;
    } catch (err) {
      return `error: ${errorMessage(err)}`;
    }
  };
  const mountinfo = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ').slice(4, 5).join(' '))
    .sort()
    .join('\n');
  const cgroups: string[] = [];
  for (const h of cgroupHierarchies()) {
    for (const e of await readdir(h)) if (e.startsWith('bulkhead-') || e === 'kubepods') cgroups.push(join(h, e));
  }
  const paths = ['/run/containerd', '/var/lib/kubelet', '/var/lib/cni', '/run/nri', MACHINE_DIR].filter((p) =>
    existsSync(p),
  );
  return {
    links: (await run('ip', ['-o', 'link', 'show']))
      .split('\n')
      .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
      .sort()
      .join('\n'),
    netns: await run('ip', ['netns', 'list']),
    routes: await run('ip', ['route', 'show']),
    nftables: await run('nft', ['list', 'ruleset']),
    ipsets: await run('ipset', ['list', '-n']),
    mounts: mountinfo,
    sysctls: RECORDED_SYSCTLS.map((k) => `${k}=${readSysctl(k)}`).join('\n'),
    cgroups: cgroups.sort().join('\n'),
    paths: paths.join('\n'),
  };
}
