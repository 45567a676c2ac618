// The policy stage's entry: a checkout folder in, every policy and every diagnostic out. A
// result with any error diagnostic is invalid as a whole: the engine applies all or nothing.
import { stat } from 'node:fs/promises';
import type { HealthPolicy, RepoSettings } from '../core/api/index.js';
import { BulkheadError } from '../core/errors.js';
import { crossFileChecks } from './cross-file.js';
import { isError, sortDiagnostics, type Diagnostic } from './diagnostic.js';
import { resolveLimits, type LoaderLimits } from './limits.js';
import { analyzePolicyFile, type FilePolicy } from './policy-file.js';
import { readBounded } from './read-bounded.js';
import { findPolicyFiles, resolveRepoFile } from './repo-files.js';
import { analyzeSettingsFile, SETTINGS_FILE } from './settings-file.js';

export interface LoadedPolicy {
  policy: HealthPolicy;
  /** Repository-relative path. */
  file: string;
  /** Line where the policy's document starts. */
  line: number;
}

export interface LoadResult {
  policies: LoadedPolicy[];
  settings?: RepoSettings;
  diagnostics: Diagnostic[];
}

export const isValid = (r: LoadResult): boolean => !r.diagnostics.some(isError);

/** Runs `fn` over items with at most `n` in flight, keeping the order of results. */
async function mapLimited<T, R>(items: readonly T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

async function readFileDiag(
  abs: string,
  rel: string,
  limits: LoaderLimits,
): Promise<{ bytes?: Uint8Array; diagnostic?: Diagnostic }> {
  try {
    const r = await readBounded(abs, limits.maxFileBytes);
    if (r.tooLarge) {
      return {
        diagnostic: {
          severity: 'error',
          code: 'BH_FILE_TOO_LARGE',
          message: `file is ${r.size} bytes; the limit is ${limits.maxFileBytes}`,
          hint: 'split it into several files',
          file: rel,
          line: 1,
          column: 1,
        },
      };
    }
    return { bytes: r.bytes };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    return {
      diagnostic: {
        severity: 'error',
        code: 'BH_READ_ERROR',
        message: `cannot read file (${code})`,
        file: rel,
        line: 1,
        column: 1,
      },
    };
  }
}

export async function loadPolicyDir(dir: string, opts?: Partial<LoaderLimits>): Promise<LoadResult> {
  const limits = resolveLimits(opts);
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) {
    throw new BulkheadError({
      kind: 'Stalled',
      code: 'BH_NO_SUCH_DIR',
      reason: 'SourceNotFound',
      message: `${dir} is not a directory`,
    });
  }
  const diagnostics: Diagnostic[] = [];
  let settings: RepoSettings | undefined;
  const settingsFile = await resolveRepoFile(dir, SETTINGS_FILE);
  if ('problem' in settingsFile && settingsFile.problem === 'escape') {
    diagnostics.push({
      severity: 'error',
      code: 'BH_SYMLINK_ESCAPE',
      message: 'symbolic link points outside the repository; it is not read',
      file: SETTINGS_FILE,
      line: 1,
      column: 1,
    });
  } else if ('abs' in settingsFile) {
    const read = await readFileDiag(settingsFile.abs, SETTINGS_FILE, limits);
    if (read.diagnostic) diagnostics.push(read.diagnostic);
    if (read.bytes) {
      const r = analyzeSettingsFile(read.bytes, limits);
      diagnostics.push(...r.diagnostics);
      settings = r.settings;
    }
  }

  const found = await findPolicyFiles(dir, limits);
  diagnostics.push(...found.diagnostics);
  // Each file is bounded, and so is their sum: 10,000 files of 1 MiB would still be 10 GiB.
  let totalBytes = 0;
  let overTotal = false;
  const analyses = await mapLimited(found.files, 16, async (f) => {
    if (overTotal) return { policies: [] as FilePolicy[], diagnostics: [] };
    const read = await readFileDiag(f.abs, f.rel, limits);
    totalBytes += read.bytes?.length ?? 0;
    if (totalBytes > limits.maxTotalBytes) {
      if (overTotal) return { policies: [] as FilePolicy[], diagnostics: [] };
      overTotal = true;
      return {
        policies: [] as FilePolicy[],
        diagnostics: [
          {
            severity: 'error' as const,
            code: 'BH_REPO_TOO_LARGE' as const,
            message: `policy files exceed ${limits.maxTotalBytes} bytes together; reading stopped here`,
            file: f.rel,
            line: 1,
            column: 1,
          },
        ],
      };
    }
    if (!read.bytes) return { policies: [] as FilePolicy[], diagnostics: read.diagnostic ? [read.diagnostic] : [] };
    return analyzePolicyFile(f.rel, read.bytes, limits);
  });
  const filePolicies = analyses.flatMap((a) => a.policies);
  diagnostics.push(
    ...analyses.flatMap((a) => a.diagnostics),
    ...crossFileChecks(filePolicies, settings?.defaults?.mode),
  );
  if (found.files.length > 0 && filePolicies.length === 0 && !diagnostics.some(isError)) {
    diagnostics.push({
      severity: 'warning',
      code: 'BH_NO_POLICIES',
      message: 'no HealthPolicy in policies/',
      file: 'policies/',
      line: 0,
      column: 0,
    });
  }
  return {
    policies: filePolicies.map(({ policy, file, line }) => ({ policy, file, line })),
    ...(settings ? { settings } : {}),
    diagnostics: sortDiagnostics(diagnostics),
  };
}
