import type { DetectRule } from '../../core/api/index.js';
import { parseDuration } from '../../core/duration.js';
import type { PodHealth, Signal } from '../types.js';
import { evidenceOf, inWindow } from './window.js';

export const ERROR_RATE_DEFAULTS = { ratio: 0.5, window: '1m', minSamples: 10 };

/** Fires when at least `ratio` of the probes in the window failed, over enough samples. */
export function detectErrorRate(pod: PodHealth, rule: DetectRule, now: number): Signal | null {
  const ratio = rule.ratio ?? ERROR_RATE_DEFAULTS.ratio;
  const minSamples = rule.minSamples ?? ERROR_RATE_DEFAULTS.minSamples;
  const samples = inWindow(pod.samples, now, parseDuration(rule.window ?? ERROR_RATE_DEFAULTS.window));
  if (samples.length < minSamples) return null;
  const failed = samples.filter((s) => !s.ok);
  const observed = failed.length / samples.length;
  if (observed < ratio) return null;
  return {
    type: 'ErrorRate',
    pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid },
    at: now,
    reason: 'ErrorRateExceeded',
    message: `${(observed * 100).toFixed(0)}% of ${samples.length} probes failed in ${rule.window ?? ERROR_RATE_DEFAULTS.window} (threshold ${(ratio * 100).toFixed(0)}%)`,
    evidence: evidenceOf(failed),
    threat: false,
  };
}
