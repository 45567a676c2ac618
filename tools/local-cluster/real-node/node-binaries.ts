import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_COMPONENTS = [
  'kubelet',
  'kube-proxy',
  'runc',
  'containerd',
  'containerd-shim-runc-v2',
  'ctr',
  'bridge',
  'host-local',
  'loopback',
  'portmap',
  'coredns',
  'kube-router',
] as const;
export type NodeComponent = (typeof NODE_COMPONENTS)[number];

export interface NodeBinaryDir {
  dir: string;
  path(c: NodeComponent): string;
}

const repoRoot = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

async function complete(dir: string): Promise<boolean> {
  try {
    for (const c of NODE_COMPONENTS) await access(join(dir, c), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The node side's binaries: `explicitDir` if it holds them all, else `local-cluster/build-node.sh`
 * builds what is missing into the cache (a no-op on a warm machine) and prints the folder.
 * Progress lines (one per component built) go to `onProgress`.
 */
export async function ensureNodeBinaries(
  opts: { explicitDir?: string; onProgress?: (line: string) => void } = {},
): Promise<NodeBinaryDir> {
  const at = (dir: string): NodeBinaryDir => ({ dir, path: (c) => join(dir, c) });
  if (opts.explicitDir) {
    if (await complete(opts.explicitDir)) return at(opts.explicitDir);
    throw new Error(`${opts.explicitDir} does not hold the node binaries (${NODE_COMPONENTS.join(', ')})`);
  }
  const script = join(repoRoot, 'local-cluster', 'build-node.sh');
  const dir = await new Promise<string>((ok, fail) => {
    const child = execFile('bash', [script], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err)
        fail(
          new Error(`local-cluster/build-node.sh failed: ${String(stderr).trim().split('\n').slice(-10).join('\n')}`),
        );
      else ok(String(stdout).trim().split('\n').pop() ?? '');
    });
    child.stderr?.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.startsWith('[local-cluster')) opts.onProgress?.(line);
    });
  });
  if (!(await complete(dir))) throw new Error(`build-node.sh printed ${dir}, which lacks node binaries`);
  return at(dir);
}
