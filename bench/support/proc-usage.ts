import { readFile } from 'node:fs/promises';

/** RSS (bytes) and cumulative CPU seconds (user + system) of a process, from /proc. */
export async function procUsage(pid: number): Promise<{ rssBytes: number; cpuSeconds: number }> {
  const [status, stat] = await Promise.all([
    readFile(`/proc/${pid}/status`, 'utf8'),
    readFile(`/proc/${pid}/stat`, 'utf8'),
  ]);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
  return { rssBytes: rssKb * 1024, cpuSeconds: ticks / 100 };
}
