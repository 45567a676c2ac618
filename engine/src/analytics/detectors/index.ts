import type { DetectRule, HealthPolicy } from '../../core/api/index.js';
import type { PodHealth, Signal } from '../types.js';
import { detectConsecutiveFailures } from './consecutive-failures.js';
import { detectErrorRate } from './error-rate.js';
import { detectIdentityRejections } from './identity-rejections.js';
import { detectLatencyP99 } from './latency-p99.js';
import { detectLifecycle } from './lifecycle.js';
import { detectProcessAnomaly } from './process-anomaly.js';

export { ewmaBaseline } from './latency-p99.js';

function runRule(pod: PodHealth, rule: DetectRule, now: number): Signal | null {
  switch (rule.type) {
    case 'ConsecutiveFailures':
      return detectConsecutiveFailures(pod, rule, now);
    case 'ErrorRate':
      return detectErrorRate(pod, rule, now);
    case 'LatencyP99':
      return detectLatencyP99(pod, rule, now);
    case 'Restarts':
    case 'CrashLoop':
    case 'OOMKilled':
      return detectLifecycle(pod, { ...rule, type: rule.type }, now);
  }
}

/**
 * Every signal for one pod under one policy: the policy's failure rules, plus the threat
 * detectors, which are always on (a compromised pod is never a matter of configuration).
 */
export function detectSignals(
  pod: PodHealth,
  policy: HealthPolicy,
  siblings: readonly PodHealth[],
  now: number,
): Signal[] {
  const out: Signal[] = [];
  for (const rule of policy.spec.detect.rules) {
    const s = runRule(pod, rule, now);
    if (s) out.push(s);
  }
  for (const s of [detectIdentityRejections(pod, now), detectProcessAnomaly(pod, siblings, now)]) if (s) out.push(s);
  return out;
}
