// Pid checks shared by the reaper and the real-node teardown (plain JavaScript, node built-ins
// only: the reaper must start fast and load nothing else).
import { readFileSync } from 'node:fs';

/**
 * True while the pid exists and is not a zombie. A zombie counts as gone: where PID 1 does not
 * reap orphans (this sandbox's init), a SIGKILLed launcher stays a zombie for good, and a
 * reaper that waited for it to vanish never cleaned up.
 */
export function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state letter follows the command name, which is in parentheses and may hold spaces.
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return false;
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
