import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { LocalCluster } from '../local-cluster/index.js';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl as a user runs it (the binary built beside the control plane), never throwing. */
export function kubectl(cluster: LocalCluster, args: string[], opts: { input?: string; timeoutMs?: number } = {}) {
  return new Promise<KubectlResult>((resolve) => {
    const child = execFile(
      join(cluster.binDir, 'kubectl'),
      args,
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, KUBECONFIG: cluster.kubeconfigPath },
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 16 << 20,
      },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** kubectl that must succeed: returns stdout, throws with stderr otherwise. */
export async function kubectlOk(
  cluster: LocalCluster,
  args: string[],
  opts: { input?: string; timeoutMs?: number } = {},
) {
  const r = await kubectl(cluster, args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} → ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}
