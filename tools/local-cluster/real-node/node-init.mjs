// One real node's init process. The launcher starts it inside the node's network namespace
// and a private mount namespace (`nsenter --net=… -- unshare --mount --propagation private
// -- node node-init.mjs <spec.json>`), so everything below touches only this node:
//   1. bind-mounts the node's own folders over the host paths kubelet, containerd and libcni
//      hard-code (/var/lib/kubelet, /var/lib/cni, /run/netns, /run/containerd);
//   2. turns on forwarding and bridge netfilter in this namespace (never the host's);
//   3. starts containerd, waits for its socket, imports the project's images (ctr), then
//      starts kubelet, kube-proxy and kube-router, each with its own log file, and records
//      their pids (images first: a pod scheduled before its image is there would back off);
//   4. on SIGTERM stops them in reverse order (SIGTERM, then SIGKILL after a grace period).
// Mounts of a private mount namespace vanish with its last process, so nothing outlives the
// node on the host's mount table. Plain JavaScript: it must start fast and depend on nothing.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const children = [];
let stopping = false;

function log(line) {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

for (const m of spec.mounts) {
  mkdirSync(m.source, { recursive: true });
  mkdirSync(m.target, { recursive: true });
  execFileSync('mount', ['--bind', m.source, m.target]);
}
for (const [key, value] of Object.entries(spec.sysctls)) {
  writeFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, value);
}

function writeState() {
  writeFileSync(
    spec.stateFile,
    JSON.stringify({ init: process.pid, processes: children.map((c) => ({ name: c.name, pid: c.child.pid })) }),
  );
}

/**
 * Starts a process; one marked `restart` (kube-proxy, kube-router: they need the Node object
 * the kubelet has yet to register) is started again a second after it exits, like a
 * DaemonSet's pod, at most `maxRestarts` times.
 */
function start(p, restarts = 0) {
  const fd = openSync(p.log, 'a');
  const child = spawn(p.binary, p.args, { stdio: ['ignore', fd, fd], env: { PATH: spec.path, HOME: spec.home } });
  closeSync(fd);
  const entry = { name: p.name, child, exited: new Promise((ok) => child.once('exit', ok)) };
  child.once('exit', (code, signal) => {
    if (stopping) return;
    log(`${p.name} exited (${signal ?? code}); see ${p.log}`);
    if (p.restart && restarts < (spec.maxRestarts ?? 30)) {
      setTimeout(() => {
        if (stopping) return;
        children.splice(children.indexOf(entry), 1, start(p, restarts + 1));
        writeState();
      }, 1000);
    }
  });
  if (restarts === 0) children.push(entry);
  writeState();
  log(`started ${p.name} (pid ${child.pid})${restarts ? `, restart ${restarts}` : ''}`);
  return entry;
}

async function waitFor(path, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${what} did not appear at ${path} within ${timeoutMs}ms`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

async function stop() {
  if (stopping) return;
  stopping = true;
  for (const c of [...children].reverse()) {
    try {
      c.child.kill('SIGTERM');
    } catch {
      /* gone */
    }
    const timer = setTimeout(() => {
      try {
        c.child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }, spec.graceMs ?? 5000);
    await c.exited;
    clearTimeout(timer);
  }
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

const [first, ...rest] = spec.processes;
start(first);
try {
  await waitFor(spec.waitForSocket, `${first.name}'s socket`, 60_000);
} catch (err) {
  log(String(err));
  await stop();
}
for (const step of spec.steps) {
  const t0 = Date.now();
  try {
    execFileSync(step.binary, step.args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  } catch (err) {
    log(`${step.name} failed: ${err.stderr?.toString() ?? err}`);
    await stop();
  }
  log(`${step.name} done in ${Date.now() - t0}ms`);
}
for (const p of rest) start(p);
log('node processes started');
setInterval(() => {}, 1 << 30);
