import { execFile } from 'node:child_process';

/**
 * Runs a program with an argument vector (never a shell string) and resolves with its stdout;
 * a failure carries the command and the tail of stderr.
 */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, env: opts.env, maxBuffer: 64 << 20, timeout: opts.timeoutMs ?? 30 * 60_000 },
      (err, stdout, stderr) => {
        if (err) {
          const tail = String(stderr).trim().split('\n').slice(-15).join('\n');
          reject(new Error(`${cmd} ${args.slice(0, 4).join(' ')}… failed: ${err.message}\n${tail}`));
        } else resolve(String(stdout));
      },
    );
  });
}
