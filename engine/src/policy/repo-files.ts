// Finds the policy files of a checkout: policies/**/*.{yaml,yml}. Symbolic links are followed
// only while they stay inside the repository (a link to /etc/shadow or to another checkout
// must not be read, let alone echoed into an error message), and directory cycles end.
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Diagnostic } from './diagnostic.js';
import type { LoaderLimits } from './limits.js';

export const POLICY_DIR = 'policies';
const YAML_FILE = /\.ya?ml$/i;

export interface FoundFile {
  /** Repository-relative path as the author sees it (the link, not its target). */
  rel: string;
  /** Real path to read. */
  abs: string;
}

const toRel = (root: string, p: string): string => relative(root, p).split(sep).join('/');
const inside = (realRoot: string, p: string): boolean => {
  const r = relative(realRoot, p);
  return r === '' || (!r.startsWith('..') && !r.startsWith(sep) && !/^[A-Za-z]:/.test(r));
};

/**
 * The real path of a repository file, or why it must not be read: a symlink that leaves the
 * repository (bulkhead.yaml → /etc/passwd) is refused like one under policies/.
 */
export async function resolveRepoFile(
  root: string,
  rel: string,
): Promise<{ abs: string } | { problem: 'missing' | 'escape' }> {
  const path = join(root, rel);
  if (!(await lstat(path).catch(() => null))) return { problem: 'missing' };
  const target = await realpath(path).catch(() => null);
  if (target === null) return { problem: 'missing' };
  return inside(await realpath(root), target) ? { abs: target } : { problem: 'escape' };
}

export async function findPolicyFiles(
  root: string,
  limits: LoaderLimits,
): Promise<{ files: FoundFile[]; diagnostics: Diagnostic[] }> {
  const realRoot = await realpath(root);
  const files: FoundFile[] = [];
  const diagnostics: Diagnostic[] = [];
  const visited = new Set<string>();
  const fileDiag = (rel: string, code: Diagnostic['code'], message: string, hint?: string): void => {
    diagnostics.push({ severity: 'error', code, message, ...(hint ? { hint } : {}), file: rel, line: 1, column: 1 });
  };

  const walk = async (dir: string, real: string, depth: number): Promise<void> => {
    if (visited.has(real) || depth > limits.maxDepth) return;
    visited.add(real);
    let entries;
    try {
      entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    } catch (err) {
      fileDiag(
        `${toRel(root, dir)}/`,
        'BH_READ_ERROR',
        `cannot list directory (${(err as NodeJS.ErrnoException).code ?? 'unknown'})`,
      );
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const path = join(dir, e.name);
      const rel = toRel(root, path);
      if (e.isSymbolicLink()) {
        let target: string;
        try {
          target = await realpath(path);
        } catch {
          if (YAML_FILE.test(e.name)) fileDiag(rel, 'BH_SYMLINK_BROKEN', 'symbolic link points to nothing');
          continue;
        }
        if (!inside(realRoot, target)) {
          fileDiag(
            rel,
            'BH_SYMLINK_ESCAPE',
            'symbolic link points outside the repository; it is not read',
            'commit the file itself, or link only within the repository',
          );
          continue;
        }
        const st = await stat(target).catch(() => null);
        if (!st) continue;
        if (st.isDirectory()) await walk(path, target, depth + 1);
        else if (st.isFile() && YAML_FILE.test(e.name)) files.push({ rel, abs: target });
        continue;
      }
      if (e.isDirectory()) await walk(path, await realpath(path), depth + 1);
      else if (e.isFile() && YAML_FILE.test(e.name)) files.push({ rel, abs: path });
      if (files.length > limits.maxFiles) return;
    }
  };

  const policies = join(root, POLICY_DIR);
  const st = await lstat(policies).catch(() => null);
  if (!st) {
    diagnostics.push({
      severity: 'warning',
      code: 'BH_NO_POLICIES',
      message: `no ${POLICY_DIR}/ folder`,
      hint: `policies live in ${POLICY_DIR}/**/*.yaml`,
      file: `${POLICY_DIR}/`,
      line: 0,
      column: 0,
    });
    return { files, diagnostics };
  }
  const realPolicies = await realpath(policies).catch(() => null);
  if (realPolicies === null || !inside(realRoot, realPolicies)) {
    fileDiag(`${POLICY_DIR}/`, 'BH_SYMLINK_ESCAPE', `${POLICY_DIR}/ points outside the repository; it is not read`);
    return { files, diagnostics };
  }
  await walk(policies, realPolicies, 0);
  if (files.length > limits.maxFiles) {
    diagnostics.push({
      severity: 'error',
      code: 'BH_TOO_MANY_FILES',
      message: `more than ${limits.maxFiles} policy files`,
      file: `${POLICY_DIR}/`,
      line: 0,
      column: 0,
    });
    files.length = limits.maxFiles;
  }
  return { files, diagnostics };
}
