// The reaper: a tiny detached process that outlives whatever started a local cluster. It
// polls its parent; when the parent is gone (crashed, SIGKILLed, interrupted before its own
// cleanup ran) it kills every recorded control-plane process and removes the run folder.
// It exits quietly as soon as the state file disappears, which is what a clean stop does.
// Plain JavaScript on purpose: it must start fast and depend on nothing.
import { readFileSync, rmSync } from 'node:fs';
import { alive, runs } from './pids.mjs';

const [parentPid, stateFile] = [Number(process.argv[2]), process.argv[3]];

function readState() {
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8'));
  } catch {
    return null;
  }
}

function kill(pid, signal) {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
      return;
    } catch {
      /* try the next form */
    }
  }
}

const timer = setInterval(() => {
  const state = readState();
  if (state === null) {
    clearInterval(timer);
    return;
  }
  // Reparented (the launcher died, zombie or not) or gone: either way, clean up.
  if (process.ppid === parentPid && alive(parentPid)) return;
  clearInterval(timer);
  const procs = (state.processes ?? []).filter((p) => runs(p.pid, p.binary));
  for (const p of procs) kill(p.pid, 'SIGTERM');
  setTimeout(async () => {
    for (const p of procs) if (alive(p.pid)) kill(p.pid, 'SIGKILL');
    // Real nodes: containers, namespaces, the bridge, cgroups and host sysctls, by the record.
    if (state.realNodeRecord) {
      try {
        const { teardownHost } = await import('./real-node/host-teardown.mjs');
        teardownHost(JSON.parse(readFileSync(state.realNodeRecord, 'utf8')), { graceMs: 0 });
      } catch {
        /* best effort: no record means nothing was made */
      }
    }
    try {
      rmSync(state.runDir, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
    process.exit(0);
  }, 3000);
}, 250);
