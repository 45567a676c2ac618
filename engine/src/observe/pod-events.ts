import type { V1Pod } from '@kubernetes/client-node';
import type { PodEvent } from './report.js';

/**
 * What changed in a pod's health between two versions of it (pure; `before` undefined on the
 * first sighting, which reports only current trouble, not history). Restarts come from
 * restartCount increases, with OOMKilled when the last termination says so; CrashLoopBackOff
 * from the waiting reason; readiness from the Ready condition's transitions.
 */
export function podEvents(before: V1Pod | undefined, after: V1Pod, now: Date): PodEvent[] {
  const time = now.toISOString();
  const out: PodEvent[] = [];
  const prev = new Map((before?.status?.containerStatuses ?? []).map((c) => [c.name, c]));
  for (const c of after.status?.containerStatuses ?? []) {
    const p = prev.get(c.name);
    if (p && c.restartCount > p.restartCount) {
      const term = c.lastState?.terminated;
      out.push({
        time,
        type: term?.reason === 'OOMKilled' ? 'OOMKilled' : 'Restarted',
        container: c.name,
        restartCount: c.restartCount,
        ...(term?.reason ? { reason: term.reason } : {}),
        ...(term?.exitCode !== undefined ? { exitCode: term.exitCode } : {}),
      });
    }
    const waiting = c.state?.waiting?.reason;
    if (waiting === 'CrashLoopBackOff' && p?.state?.waiting?.reason !== 'CrashLoopBackOff') {
      out.push({ time, type: 'CrashLoopBackOff', container: c.name, restartCount: c.restartCount });
    }
  }
  const ready = readyStatus(after);
  const wasReady = before ? readyStatus(before) : undefined;
  if (ready !== undefined && ready !== wasReady && !(before === undefined && ready)) {
    out.push({ time, type: ready ? 'Ready' : 'NotReady' });
  }
  return out;
}

function readyStatus(pod: V1Pod): boolean | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'Ready');
  return c ? c.status === 'True' : undefined;
}
