import { spawn, type ChildProcess } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';

/**
 * A control-plane process we started: its own process group (so a terminal's Ctrl-C reaches
 * the launcher first, which then stops components in order), output to a log file, and a
 * stop that escalates from SIGTERM to SIGKILL.
 */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly exited: Promise<number | null>;
  isRunning(): boolean;
  stop(graceMs?: number): Promise<void>;
  logTail(lines?: number): Promise<string>;
}

export async function startProcess(
  name: string,
  binary: string,
  args: string[],
  logFile: string,
  env?: NodeJS.ProcessEnv,
): Promise<ManagedProcess> {
  const log = await open(logFile, 'a');
  let child: ChildProcess;
  try {
    // argv array, never a shell string: flags may carry paths with spaces.
    child = spawn(binary, args, { stdio: ['ignore', log.fd, log.fd], detached: true, env: env ?? process.env });
  } finally {
    await log.close();
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: spawn failed`);
  let running = true;
  const exited = new Promise<number | null>((ok) => {
    child.once('exit', (code, signal) => {
      running = false;
      ok(code ?? (signal ? -1 : null));
    });
    child.once('error', () => {
      running = false;
      ok(-1);
    });
  });
  child.unref();
  const tail = async (lines = 40): Promise<string> => {
    const text = await readFile(logFile, 'utf8').catch(() => '');
    return text.split('\n').slice(-lines).join('\n');
  };
  return {
    name,
    pid,
    logFile,
    exited,
    isRunning: () => running,
    logTail: tail,
    async stop(graceMs = 5000) {
      if (!running) return;
      signalGroup(pid, 'SIGTERM');
      // A ref'd timer on purpose: the child is unref'd, so without it nothing would keep the
      // event loop alive while we wait for the exit and the process would quit mid-stop.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((ok) => (timer = setTimeout(() => ok('timeout'), graceMs)));
      const outcome = await Promise.race([exited, timeout]);
      if (outcome === 'timeout') {
        signalGroup(pid, 'SIGKILL');
        const keepAlive = setInterval(() => {}, 1000);
        await exited;
        clearInterval(keepAlive);
      }
      clearTimeout(timer);
    },
  };
}

/** Signals the process group (negative pid), falling back to the pid alone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}
