import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BulkheadError } from '../../engine/src/core/errors.js';

export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
export type Component = (typeof COMPONENTS)[number];

export interface BinaryDir {
  dir: string;
  /** kubectl (with built-in kustomize), built beside the control plane for users and tests. */
  kubectl: string;
  path(component: Component): string;
  /** The kwok Stage objects extracted from kwok's module at build time. */
  kwokStages: string;
}

const repoRoot = resolve(fileURLToPath(new URL('../../', import.meta.url)));

function binaryDir(dir: string): BinaryDir {
  return { dir, kubectl: join(dir, 'kubectl'), path: (c) => join(dir, c), kwokStages: join(dir, 'kwok-stages.yaml') };
}

async function complete(dir: string): Promise<boolean> {
  try {
    for (const c of [...COMPONENTS, 'kubectl']) await access(join(dir, c), constants.X_OK);
    await access(join(dir, 'kwok-stages.yaml'), constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the control-plane binaries. `BULKHEAD_BIN_DIR` (passed in as `explicitDir`) names a
 * ready folder; otherwise `local-cluster/build.sh` builds what is missing into the cache
 * (a no-op on a warm machine) and prints the folder.
 */
export async function ensureBinaries(
  opts: { explicitDir?: string; onProgress?: (line: string) => void } = {},
): Promise<BinaryDir> {
  if (opts.explicitDir) {
    if (await complete(opts.explicitDir)) return binaryDir(opts.explicitDir);
    throw new BulkheadError({
      kind: 'Stalled',
      code: 'BH_LOCAL_CLUSTER_BINARIES',
      reason: 'BinariesMissing',
      message: `BULKHEAD_BIN_DIR=${opts.explicitDir} does not hold ${COMPONENTS.join(', ')}, kubectl and kwok-stages.yaml; unset it to build them`,
    });
  }
  const script = join(repoRoot, 'local-cluster', 'build.sh');
  const dir = await new Promise<string>((ok, fail) => {
    const child = execFile('bash', [script], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        fail(
          new BulkheadError({
            kind: 'Stalled',
            code: 'BH_LOCAL_CLUSTER_BUILD',
            reason: 'BuildFailed',
            message: `building the control plane failed (exit ${String(err.code)}):\n${stderr.split('\n').slice(-20).join('\n')}`,
            cause: err,
          }),
        );
        return;
      }
      ok(stdout.trim().split('\n').pop() ?? '');
    });
    child.stderr?.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line) opts.onProgress?.(line);
    });
  });
  if (!(await complete(dir))) {
    throw new BulkheadError({
      kind: 'Stalled',
      code: 'BH_LOCAL_CLUSTER_BUILD',
      reason: 'BuildFailed',
      message: `build.sh finished but ${dir} is incomplete`,
    });
  }
  return binaryDir(dir);
}
