import type { PodHealth, ProcessSample, Signal } from '../types.js';

type Metric = 'processes' | 'openFds' | 'threads';

/** Minimum absolute jump per metric, so tiny groups with identical values don't trip on noise. */
const FLOOR: Record<Metric, number> = { processes: 5, openFds: 100, threads: 50 };
export const ANOMALY_DEFAULTS = { minSiblings: 3, factor: 3, zScore: 6 };

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * A threat signal: the pod's newest process stats sit far outside its siblings' distribution
 * (new processes, an fd or thread explosion): what a crypto-miner, a reverse shell or a
 * fork bomb looks like from outside. Robust statistics (median and MAD) so one outlier
 * sibling cannot hide another; a jump must also be large in absolute terms.
 */
export function detectProcessAnomaly(pod: PodHealth, siblings: readonly PodHealth[], now: number): Signal | null {
  const latest = (p: PodHealth): ProcessSample | undefined => p.stats?.[p.stats.length - 1];
  const mine = latest(pod);
  if (!mine) return null;
  const others = siblings
    .filter((s) => s.uid !== pod.uid)
    .map(latest)
    .filter((s): s is ProcessSample => s !== undefined);
  if (others.length < ANOMALY_DEFAULTS.minSiblings) return null;
  const findings: string[] = [];
  for (const metric of Object.keys(FLOOR) as Metric[]) {
    const values = others.map((o) => o[metric]);
    const m = median(values);
    const mad = median(values.map((v) => Math.abs(v - m)));
    // 1.4826 × MAD estimates σ for normal data; the floor stands in when siblings agree exactly.
    const sigma = Math.max(1.4826 * mad, FLOOR[metric] / ANOMALY_DEFAULTS.zScore);
    const x = mine[metric];
    const z = (x - m) / sigma;
    if (z > ANOMALY_DEFAULTS.zScore && x > ANOMALY_DEFAULTS.factor * Math.max(m, 1) && x - m >= FLOOR[metric]) {
      findings.push(`${metric} ${x} vs sibling median ${m} (z=${z.toFixed(1)})`);
    }
  }
  if (findings.length === 0) return null;
  return {
    type: 'ProcessAnomaly',
    pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid },
    at: now,
    reason: 'ProcessAnomaly',
    message: `process stats far outside its group: ${findings.join('; ')}`,
    evidence: [mine],
    threat: true,
  };
}
