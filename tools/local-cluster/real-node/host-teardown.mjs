// Undoes everything a real-node cluster changed on the host, from its record alone, so the
// launcher's stop, `bulkhead local-cluster down` and the reaper (after a SIGKILL of the
// launcher) all clean up the same way. Every step is idempotent and keeps going on errors:
// a half-started cluster is torn down as far as it got.
//
// The record (real-node/host-record.json in the run folder) lists what was made: the slot
// lock, the host bridge, the node network namespaces, the cgroup roots, the pids started on
// the host, and the host sysctls as they were before the first cluster started. Plain
// JavaScript, node built-ins only: the reaper loads it.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, runs } from '../pids.mjs';

export const MACHINE_DIR = '/run/bulkhead-local-cluster';
export const SYSCTL_RECORD = join(MACHINE_DIR, 'host-sysctls.json');

function quiet(cmd, args) {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch {
    return '';
  }
}

function kill(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Every cgroup hierarchy mounted on this host (v1 controllers, name=systemd, the unified one). */
export function cgroupHierarchies() {
  const base = '/sys/fs/cgroup';
  if (existsSync(join(base, 'cgroup.controllers'))) return [base]; // pure v2
  return readdirSync(base)
    .map((d) => join(base, d))
    .filter((d) => {
      try {
        return statSync(d).isDirectory() && existsSync(join(d, 'cgroup.procs'));
      } catch {
        return false;
      }
    });
}

function cgroupDirsDeepestFirst(root) {
  const out = [];
  const walk = (d) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(join(d, e.name));
    out.push(d);
  };
  walk(root);
  return out;
}

/** Pids in a node's cgroups (its containers, their shims' children) and in its network namespace. */
export function nodePids(record) {
  const pids = new Set();
  for (const ns of record.netns ?? []) {
    for (const line of quiet('ip', ['netns', 'pids', ns]).split('\n')) if (/^\d+$/.test(line)) pids.add(Number(line));
  }
  for (const h of cgroupHierarchies()) {
    for (const root of record.cgroupRoots ?? []) {
      for (const d of cgroupDirsDeepestFirst(join(h, root))) {
        try {
          for (const line of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) {
            if (/^\d+$/.test(line)) pids.add(Number(line));
          }
        } catch {
          /* not there */
        }
      }
    }
  }
  pids.delete(process.pid);
  return [...pids];
}

/** A recorded process that still runs what we started (pids get reused). */
const ours = (p) => runs(p.pid, p.binary);

export function readSysctl(key) {
  try {
    return readFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function writeSysctl(key, value) {
  try {
    writeFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, value);
  } catch {
    /* best effort */
  }
}

/** The record of the cluster holding a slot: its lock dir names its run folder. */
export function slotRecord(slotDir) {
  try {
    const runDir = readFileSync(join(slotDir, 'owner'), 'utf8').trim();
    return JSON.parse(readFileSync(join(runDir, 'real-node', 'host-record.json'), 'utf8'));
  } catch {
    return null;
  }
}

/**
 * A slot is live while the launcher that took it runs (a cluster still starting has recorded
 * no process yet) or while a process it recorded still runs (a detached cluster outlives its
 * launcher).
 */
export function slotLive(slotDir) {
  try {
    if (alive(Number(readFileSync(join(slotDir, 'launcher'), 'utf8')))) return true;
  } catch {
    /* no launcher file: a slot from before the pid was kept, judged by its record alone */
  }
  const record = slotRecord(slotDir);
  return !!record && (record.processes ?? []).some((p) => alive(p.pid) && ours(p));
}

function otherLiveSlots(mySlotDir) {
  const dir = join(MACHINE_DIR, 'slots');
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  return names
    .filter((n) => !n.startsWith('.'))
    .map((n) => join(dir, n))
    .filter((d) => d !== mySlotDir && slotLive(d)).length;
}

export function teardownHost(record, opts = {}) {
  const graceMs = opts.graceMs ?? 8000;
  // 1. Ask the node inits and host processes to stop (kubelet, containerd... stop in order).
  const started = (record.processes ?? []).filter(ours);
  for (const p of started) kill(p.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (started.some((p) => alive(p.pid)) && Date.now() < deadline) sleep(100);
  for (const p of started) if (alive(p.pid)) kill(p.pid, 'SIGKILL');
  // 2. Whatever is left in the nodes' namespaces and cgroups: containers, shims, stragglers.
  for (let round = 0; round < 50; round++) {
    const left = nodePids(record);
    if (left.length === 0) break;
    for (const pid of left) kill(pid, 'SIGKILL');
    sleep(100);
  }
  // 3. Empty cgroups, deepest first, in every hierarchy.
  for (const h of cgroupHierarchies()) {
    for (const root of record.cgroupRoots ?? []) {
      for (const d of cgroupDirsDeepestFirst(join(h, root))) {
        try {
          rmdirSync(d);
        } catch {
          /* not there, or still busy */
        }
      }
    }
  }
  // 4. Network: the namespaces take their veths, rules, ipsets and routes with them.
  for (const ns of record.netns ?? []) quiet('ip', ['netns', 'delete', ns]);
  if (record.bridge) quiet('ip', ['link', 'delete', record.bridge]);
  // 5. Machine-wide state: restored by the last cluster to go.
  const last = otherLiveSlots(record.slotDir) === 0;
  if (last) {
    try {
      const before = JSON.parse(readFileSync(SYSCTL_RECORD, 'utf8'));
      for (const [k, v] of Object.entries(before.sysctls ?? {})) if (v !== undefined) writeSysctl(k, v);
      if (before.netnsDirWasMount === false && readdirSync('/run/netns').length === 0) {
        quiet('umount', ['/run/netns']);
        if (before.netnsDirExisted === false) rmSync('/run/netns', { recursive: true, force: true });
      }
      rmSync(SYSCTL_RECORD, { force: true });
    } catch {
      /* no record: nothing was changed */
    }
  }
  // 6. Files.
  if (record.runDir) rmSync(record.runDir, { recursive: true, force: true });
  if (record.slotDir) rmSync(record.slotDir, { recursive: true, force: true });
  if (last) {
    try {
      if (readdirSync(join(MACHINE_DIR, 'slots')).length === 0) rmSync(MACHINE_DIR, { recursive: true, force: true });
    } catch {
      /* gone */
    }
  }
}
