import type { DetectRule } from '../../core/api/index.js';
import { parseDuration } from '../../core/duration.js';
import type { PodHealth, ProbeSample, Signal } from '../types.js';
import { evidenceOf, inWindow, p99 } from './window.js';

export const LATENCY_DEFAULTS = { window: '5m', minSamples: 20, baselineFactor: 3, alpha: 0.1 };

/**
 * The pod's own normal latency: an exponentially weighted moving average of the samples
 * before the window. A service that is always slow has a high baseline and is not flagged;
 * one that suddenly gets slower than its own normal is.
 */
export function ewmaBaseline(samples: readonly ProbeSample[], alpha = LATENCY_DEFAULTS.alpha): number | undefined {
  let avg: number | undefined;
  for (const s of samples) avg = avg === undefined ? s.latencyMs : alpha * s.latencyMs + (1 - alpha) * avg;
  return avg;
}

/**
 * Fires when the window's p99 latency is above the absolute limit (if the rule sets one)
 * AND above `baselineFactor` × the pod's own baseline (when there is enough history for one).
 * With no absolute limit the baseline is required. Probes that timed out are not latencies.
 */
export function detectLatencyP99(pod: PodHealth, rule: DetectRule, now: number): Signal | null {
  const windowMs = parseDuration(rule.window ?? LATENCY_DEFAULTS.window);
  const minSamples = rule.minSamples ?? LATENCY_DEFAULTS.minSamples;
  // Answered probes only: a timed-out probe's latency is the timeout, not the app's answer. A
  // hang is ConsecutiveFailures' (and ErrorRate's) to see; this detector is for slow answers.
  const inside = inWindow(pod.samples, now, windowMs).filter((s) => s.errorClass !== 'Timeout');
  if (inside.length < minSamples) return null;
  const before = pod.samples.filter((s) => s.t <= now - windowMs && s.ok);
  const baseline = before.length >= minSamples ? ewmaBaseline(before) : undefined;
  const limit = rule.latency === undefined ? undefined : parseDuration(rule.latency);
  const observed = p99(inside.map((s) => s.latencyMs));
  if (limit === undefined && baseline === undefined) return null;
  if (limit !== undefined && observed <= limit) return null;
  if (baseline !== undefined && observed <= LATENCY_DEFAULTS.baselineFactor * baseline) return null;
  const slow = inside.filter(
    (s) => s.latencyMs >= (limit ?? 0) && s.latencyMs >= (baseline ?? 0) * LATENCY_DEFAULTS.baselineFactor,
  );
  const against = [
    limit === undefined ? null : `limit ${limit} ms`,
    baseline === undefined ? null : `${LATENCY_DEFAULTS.baselineFactor}× own baseline ${baseline.toFixed(1)} ms`,
  ].filter(Boolean);
  return {
    type: 'LatencyP99',
    pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid },
    at: now,
    reason: 'LatencyP99Exceeded',
    message: `p99 latency ${observed.toFixed(1)} ms over ${rule.window ?? LATENCY_DEFAULTS.window} exceeds ${against.join(' and ')}`,
    evidence: evidenceOf(slow),
    threat: false,
  };
}
