import type { PodHealthWindow } from '../observe/index.js';
import { podIdentity, text } from './snapshot.js';
import type { Timeline } from './view-model.js';

/**
 * One pod's health timeline as the chart draws it: points relative to the left edge, and a
 * round top for the latency axis. Pure. Bounded by the store: at most samplesPerPod points
 * (120 by default) and eventsPerPod events per pod, whatever the window.
 */

/** The smallest of 1, 2, 2.5, 5 × 10^k at or above v (an axis top a human reads at a glance). */
export function niceCeil(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const exp = Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) {
    const c = m * 10 ** exp;
    if (c >= v * (1 - 1e-9)) return Number(c.toPrecision(12));
  }
  return 10 ** (exp + 1);
}

export function buildTimeline(h: PodHealthWindow, now: number, windowMs: number): Timeline {
  const from = now - windowMs;
  const points = h.samples
    .map((s) => ({
      t: Date.parse(s.time) - from,
      seq: s.seq,
      ok: s.probe.ok,
      latencyMs: s.probe.latencyMs,
      ...(s.probe.status ? { status: s.probe.status } : {}),
      ...(s.probe.error ? { error: s.probe.error } : {}),
    }))
    .filter((p) => Number.isFinite(p.t) && p.t >= 0);
  const maxLatency = points.reduce((m, p) => Math.max(m, p.latencyMs), 0);
  return {
    ...podIdentity(h),
    from,
    fromIso: new Date(from).toISOString(),
    spanMs: windowMs,
    yMaxMs: niceCeil(maxLatency),
    points,
    failures: points.filter((p) => !p.ok).length,
    events: h.events
      .map((e) => ({
        t: Date.parse(e.time) - from,
        type: text(e.type, 32),
        detail: text(
          [
            e.container,
            e.reason,
            e.exitCode !== undefined ? `exit ${e.exitCode}` : undefined,
            e.restartCount !== undefined ? `restarts ${e.restartCount}` : undefined,
          ]
            .filter((x) => x !== undefined)
            .join(' · '),
          256,
        ),
      }))
      .filter((e) => Number.isFinite(e.t) && e.t >= 0),
    droppedBySidecar: h.droppedBySidecar,
    gaps: h.gaps,
  };
}
