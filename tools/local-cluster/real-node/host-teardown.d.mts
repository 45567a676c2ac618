// Types of host-teardown.mjs (plain JavaScript, shared with the reaper).
export interface HostRecord {
  slot: number;
  slotDir: string;
  runDir: string;
  bridge: string;
  netns: string[];
  cgroupRoots: string[];
  /** Processes started on the host (node inits, CoreDNS), with the binary that must still match. */
  processes: { name: string; pid: number; binary: string }[];
}

export const MACHINE_DIR: string;
export const SYSCTL_RECORD: string;
export function cgroupHierarchies(): string[];
export function nodePids(record: HostRecord): number[];
export function readSysctl(key: string): string | undefined;
export function slotRecord(slotDir: string): HostRecord | null;
export function slotLive(slotDir: string): boolean;
export function teardownHost(record: HostRecord, opts?: { graceMs?: number }): void;
