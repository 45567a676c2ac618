import type { DetectRule } from '../../core/api/index.js';
import type { PodHealth, Signal } from '../types.js';
import { evidenceOf } from './window.js';

export const DEFAULT_CONSECUTIVE_FAILURES = 3;

/** Fires when the newest `threshold` probe samples all failed. */
export function detectConsecutiveFailures(pod: PodHealth, rule: DetectRule, now: number): Signal | null {
  const threshold = rule.threshold ?? DEFAULT_CONSECUTIVE_FAILURES;
  let run = 0;
  for (let i = pod.samples.length - 1; i >= 0 && !pod.samples[i]!.ok; i--) run++;
  if (run < threshold) return null;
  const failed = pod.samples.slice(pod.samples.length - run);
  return {
    type: 'ConsecutiveFailures',
    pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid },
    at: now,
    reason: 'ConsecutiveProbeFailures',
    message: `${run} consecutive probe failures (threshold ${threshold})`,
    evidence: evidenceOf(failed),
    threat: false,
  };
}
