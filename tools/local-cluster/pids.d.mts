// Types of pids.mjs (plain JavaScript, shared with the reaper).
export function alive(pid: number): boolean;
export function runs(pid: number, binary: string): boolean;
