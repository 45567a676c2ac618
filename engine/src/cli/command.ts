import type { Command } from 'commander';

/**
 * Exit codes, shared by every command (documented in the README):
 *   0 success / valid / no changes
 *   1 invalid input (policy errors) or a failed step
 *   2 usage or I/O error
 *   3 `plan`: changes pending
 */
export const EXIT = { ok: 0, invalid: 1, usage: 2, changes: 3 } as const;

/** Each command registers itself on the program and reports its exit code through `setExit`. */
export type CommandRegistrar = (program: Command, setExit: (code: number) => void) => void;
