import type { DetectRule } from '../../core/api/index.js';
import { parseDuration } from '../../core/duration.js';
import type { LifecycleKind, PodHealth, Signal } from '../types.js';
import { evidenceOf, inWindow } from './window.js';

type LifecycleRule = 'Restarts' | 'CrashLoop' | 'OOMKilled';

const SPEC: Record<LifecycleRule, { event: LifecycleKind; threshold: number; reason: string; noun: string }> = {
  Restarts: { event: 'Restart', threshold: 3, reason: 'RestartsExceeded', noun: 'container restarts' },
  CrashLoop: {
    event: 'CrashLoopBackOff',
    threshold: 1,
    reason: 'CrashLoopBackOff',
    noun: 'CrashLoopBackOff observations',
  },
  OOMKilled: { event: 'OOMKilled', threshold: 1, reason: 'OOMKilled', noun: 'OOM kills' },
};

/** Restarts, crash loops and OOM kills seen by the pod watch, counted over the rule's window. */
export function detectLifecycle(
  pod: PodHealth,
  rule: DetectRule & { type: LifecycleRule },
  now: number,
): Signal | null {
  const spec = SPEC[rule.type];
  const threshold = rule.threshold ?? spec.threshold;
  const window = rule.window ?? '10m';
  const hits = inWindow(pod.events, now, parseDuration(window)).filter((e) => e.kind === spec.event);
  if (hits.length < threshold) return null;
  return {
    type: rule.type,
    pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid },
    at: now,
    reason: spec.reason,
    message: `${hits.length} ${spec.noun} in ${window} (threshold ${threshold})`,
    evidence: evidenceOf(hits),
    threat: false,
  };
}
