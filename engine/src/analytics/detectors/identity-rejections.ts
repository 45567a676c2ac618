import type { PodHealth, Signal } from '../types.js';
import { evidenceOf, inWindow } from './window.js';

export const IDENTITY_DEFAULTS = { threshold: 5, windowMs: 5 * 60_000 };

/**
 * A threat signal: this pod, with its own valid token, sent reports about other pods that were
 * refused (observe counts them against the sender, ADR 1800). A healthy sidecar never does
 * this; a compromised pod probing the engine, or trying to frame a sibling, does.
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
    message: `${hits.length} reports sent with this pod's token about another pod refused in ${opts.windowMs / 60_000}m (threshold ${opts.threshold})`,
    evidence: evidenceOf(hits),
    threat: true,
  };
}
