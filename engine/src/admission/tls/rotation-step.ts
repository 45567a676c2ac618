import { parseDuration } from '../../core/duration.js';
import { DEFAULT_TLS_TIMING } from './material.js';

/**
 * How an operator chooses the step interval of a forced CA rotation (ADR 1020):
 * `kubectl -n bulkhead-system annotate secret bulkhead-webhook-tls bulkhead.dev/rotate-ca=now
 * bulkhead.dev/rotate-ca-step=90s`. Read with the rotate-ca request and stored with the staged
 * CA, so every replica and a leader elected mid-rotation promote and retire on the same clock.
 */
export const ROTATE_CA_STEP_ANNOTATION = 'bulkhead.dev/rotate-ca-step';

/**
 * The shortest step that still lets every client catch up before the next one: the kubelet
 * refreshes a ConfigMap volume within about a minute (its sync period), the sidecar re-reads
 * its CA file every 10 s, and a follower re-reads the Secret every 60 s (the serving cert it
 * loads after a promotion). 60 s + 10 s plus slack for the kubelet's jitter: 90 s.
 */
export const MIN_CA_STEP_MS = 90_000;
/** The longest: a rotation that takes days leaves a leaked key trusted just as long. */
export const MAX_CA_STEP_MS = 24 * 3_600_000;

export interface CaStep {
  /** The step interval to use. */
  stepMs: number;
  /** Why the requested value was not used as given (for a log line and an Event); absent when it was. */
  problem?: string;
}

const seconds = (ms: number): string => `${Math.round(ms / 1000)}s`;

/**
 * Parses the `rotate-ca-step` annotation (a duration such as "90s", "2m", "1h30m"). No value:
 * the default (10 min). Below the floor or above the ceiling: clamped, so an emergency rotation
 * still runs as fast as propagation allows rather than not at all. Not a duration: the default,
 * never a guess. The problem says which and why.
 */
export function parseCaStep(value: string | undefined, defaultMs: number = DEFAULT_TLS_TIMING.caOverlapMs): CaStep {
  if (value === undefined) return { stepMs: defaultMs };
  const text = value.trim();
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    return {
      stepMs: defaultMs,
      problem: `${ROTATE_CA_STEP_ANNOTATION}="${value}" is not a duration (e.g. 90s, 5m, 1h); using the default ${seconds(defaultMs)}`,
    };
  }
  if (ms < MIN_CA_STEP_MS)
    return {
      stepMs: MIN_CA_STEP_MS,
      problem:
        `${ROTATE_CA_STEP_ANNOTATION}=${text} is below the ${seconds(MIN_CA_STEP_MS)} floor (the kubelet's ` +
        `ConfigMap refresh, about 60 s, plus the sidecar's 10 s re-read): using ${seconds(MIN_CA_STEP_MS)}`,
    };
  if (ms > MAX_CA_STEP_MS)
    return {
      stepMs: MAX_CA_STEP_MS,
      problem:
        `${ROTATE_CA_STEP_ANNOTATION}=${text} is above the 24h ceiling (a replaced CA stays trusted for ` +
        `two steps): using 24h`,
    };
  return { stepMs: ms };
}
