// Pid checks shared by the reaper and the real-node teardown (plain JavaScript, node built-ins
// only: the reaper must start fast and load nothing else).
import { readFileSync } from 'node:fs';

/** True while the pid exists (EPERM: it exists, owned by someone else). */
export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Whether the pid still runs `binary`: pids get reused, so only such a pid is ours to kill. */
export function runs(pid, binary) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === binary;
  } catch {
    return false;
  }
}
