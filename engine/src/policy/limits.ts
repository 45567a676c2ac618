// Bounds on everything the loader reads: a policy repository is input from many hands (and,
// through a pull request, from anyone), so no file may cost unbounded time or memory.
export interface LoaderLimits {
  /** Largest policy file read, in bytes (default 1 MiB). */
  maxFileBytes: number;
  /** Most YAML documents in one file. */
  maxDocumentsPerFile: number;
  /** Deepest nesting of mappings and sequences. */
  maxDepth: number;
  /** Most nodes one document may expand to once aliases are followed (billion-laughs guard). */
  maxExpandedNodes: number;
  /** Most policy files in one repository. */
  maxFiles: number;
  /** Most bytes of policy files in one repository, all files together (default 64 MiB). */
  maxTotalBytes: number;
}

export const DEFAULT_LIMITS: LoaderLimits = {
  maxFileBytes: 1024 * 1024,
  maxDocumentsPerFile: 100,
  maxDepth: 32,
  maxExpandedNodes: 100_000,
  maxFiles: 10_000,
  maxTotalBytes: 64 * 1024 * 1024,
};

export function resolveLimits(partial?: Partial<LoaderLimits>): LoaderLimits {
  return { ...DEFAULT_LIMITS, ...partial };
}
