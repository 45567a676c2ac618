import type { PodHealth, Signal } from '../types.js';
import { evidenceOf, inWindow } from './window.js';

export const IDENTITY_DEFAULTS = { threshold: 5, windowMs: 5 * 60_000 };

/**
 * A threat signal: reports about this pod were rejected repeatedly (a token for another pod,
 * a forged or expired token). A healthy sidecar never does this; a compromised pod probing
 * the engine, or trying to frame a sibling, does.
 */
export function detectIdentityRejections(pod: PodHealth, now: number, opts = IDENTITY_DEFAULTS): Signal | null {
  const hits = inWindow(
    (pod.identityRejections ?? []).map((t) => ({ t, rejected: true as const })),
    now,
    opts.windowMs,
  );
  if (hits.length < opts.threshold) return null;
  return {
    type: 'IdentityRejected',
    pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid },
    at: now,
    reason: 'ReportIdentityRejected',
    message: `${hits.length} reports for this pod rejected for identity in ${opts.windowMs / 60_000}m (threshold ${opts.threshold})`,
    evidence: evidenceOf(hits),
    threat: true,
  };
}
