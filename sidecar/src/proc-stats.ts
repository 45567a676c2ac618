import { readdir, readFile } from 'node:fs/promises';

/**
 * Resource use of the main container's processes, read from /proc. It works when the pod
 * shares its process namespace (`shareProcessNamespace: true`): the sidecar then sees the
 * main container's processes. Without it the sidecar sees only itself, and reports nothing.
 */
export interface ProcessStats {
  /** How many processes matched. */
  count: number;
  /** utime + stime of the matched processes, in seconds (cumulative; rates are the engine's job). */
  cpuSeconds: number;
  rssBytes: number;
  openFds: number;
  threads: number;
}

const CLOCK_TICKS = 100; // USER_HZ is 100 on every Linux architecture Kubernetes runs on.
const PAGE_SIZE = 4096;

export interface ProcReaderOptions {
  procRoot?: string;
  /** Only processes whose command line contains this string (all others than ours otherwise). */
  match?: string;
  /** Our own pid, always excluded (and pid 1, the pause container, when sharing the namespace). */
  selfPid?: number;
}

/** Parses /proc/<pid>/stat: the command may contain spaces and parentheses, so split after the last ')'. */
export function parseStat(text: string): { utime: number; stime: number; threads: number; rssPages: number } | null {
  const end = text.lastIndexOf(')');
  if (end < 0) return null;
  const f = text.slice(end + 2).split(' ');
  // Fields after the command, 0-based from field 3 (state): utime=14, stime=15, num_threads=20, rss=24 (1-based in proc(5)).
  const n = (i: number): number => Number(f[i - 3]);
  const r = { utime: n(14), stime: n(15), threads: n(20), rssPages: n(24) };
  return Object.values(r).every(Number.isFinite) ? r : null;
}

export async function readProcessStats(opts: ProcReaderOptions = {}): Promise<ProcessStats | undefined> {
  const root = opts.procRoot ?? '/proc';
  const self = opts.selfPid ?? process.pid;
  const pids = (await readdir(root).catch(() => [] as string[])).filter((d) => /^\d+$/.test(d)).map(Number);
  const stats: ProcessStats = { count: 0, cpuSeconds: 0, rssBytes: 0, openFds: 0, threads: 0 };
  for (const pid of pids) {
    if (pid === self) continue;
    try {
      const cmdline = (await readFile(`${root}/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
      if (cmdline === '' || cmdline === '/pause') continue; // kernel threads, the pod's pause container
      if (opts.match !== undefined && !cmdline.includes(opts.match)) continue;
      const st = parseStat(await readFile(`${root}/${pid}/stat`, 'utf8'));
      if (!st) continue;
      const fds = await readdir(`${root}/${pid}/fd`).then(
        (l) => l.length,
        () => 0,
      );
      stats.count++;
      stats.cpuSeconds += (st.utime + st.stime) / CLOCK_TICKS;
      stats.rssBytes += st.rssPages * PAGE_SIZE;
      stats.threads += st.threads;
      stats.openFds += fds;
    } catch {
      // The process exited between readdir and read: skip it.
    }
  }
  if (stats.count === 0) return undefined;
  stats.cpuSeconds = Math.round(stats.cpuSeconds * 100) / 100;
  return stats;
}
