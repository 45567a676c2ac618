import type { PodHealthWindow } from '../observe/index.js';

/**
 * The cardinality bound (ADR 1811): at most `maxPods` pods are exported per scrape, each with
 * at most SERIES_PER_POD series, labelled only {namespace, pod, policy} (no uid, no container,
 * no free text), so one scrape is at most maxPods × 14 + 4 series whatever the cluster does.
 * Past maxPods the healthiest pods are dropped first (the lowest probe success ratio is kept,
 * then the most restarts, then namespace/name order), and the count dropped is itself exported
 * (`bulkhead_health_export_pods{state="dropped"}`).
 */
export const EXPORT_DEFAULTS = { maxPods: 2_000 } as const;
export const SERIES_PER_POD = 14;

interface Family {
  name: string;
  help: string;
  /** Extra label (one fixed set of values) beside namespace/pod/policy. */
  value(p: PodSummary): number | undefined | [string, string, number][];
}

/** What one pod's window says, reduced to the exported numbers. */
export interface PodSummary {
  namespace: string;
  pod: string;
  policy: string;
  ok: number;
  failed: number;
  lastOk?: boolean;
  lastLatencyS?: number;
  p99LatencyS?: number;
  lastReportS?: number;
  restarts: number;
  oomKills: number;
  droppedBySidecar: number;
  gaps: number;
  process?: PodHealthWindow['process'];
}

export function summarize(w: PodHealthWindow): PodSummary {
  let ok = 0;
  const latencies: number[] = [];
  for (const s of w.samples) {
    if (s.probe.ok) ok++;
    latencies.push(s.probe.latencyMs);
  }
  const last = w.samples.at(-1);
  latencies.sort((a, b) => a - b);
  const p99 =
    latencies.length > 0
      ? latencies[Math.min(latencies.length - 1, Math.ceil(latencies.length * 0.99) - 1)]
      : undefined;
  return {
    namespace: w.namespace,
    pod: w.pod,
    policy: w.policy ?? '',
    ok,
    failed: w.samples.length - ok,
    ...(last ? { lastOk: last.probe.ok, lastLatencyS: last.probe.latencyMs / 1000 } : {}),
    ...(p99 !== undefined ? { p99LatencyS: p99 / 1000 } : {}),
    ...(w.lastReportAt ? { lastReportS: Date.parse(w.lastReportAt) / 1000 } : {}),
    restarts: w.events.filter((e) => e.type === 'Restarted').length,
    oomKills: w.events.filter((e) => e.type === 'OOMKilled').length,
    droppedBySidecar: w.droppedBySidecar,
    gaps: w.gaps,
    ...(w.process ? { process: w.process } : {}),
  };
}

const ratio = (p: PodSummary): number | undefined => (p.ok + p.failed > 0 ? p.ok / (p.ok + p.failed) : undefined);

const FAMILIES: Family[] = [
  {
    name: 'bulkhead_pod_probe_up',
    help: 'Whether the last probe of the pod succeeded (1) or failed (0)',
    value: (p) => (p.lastOk === undefined ? undefined : p.lastOk ? 1 : 0),
  },
  {
    name: 'bulkhead_pod_probe_success_ratio',
    help: 'Share of probes that succeeded in the health window',
    value: ratio,
  },
  {
    name: 'bulkhead_pod_probe_samples',
    help: 'Probe samples in the health window, by result',
    value: (p) => [
      ['result', 'ok', p.ok],
      ['result', 'failed', p.failed],
    ],
  },
  { name: 'bulkhead_pod_probe_latency_seconds', help: 'Latency of the last probe', value: (p) => p.lastLatencyS },
  {
    name: 'bulkhead_pod_probe_latency_p99_seconds',
    help: 'p99 probe latency over the health window',
    value: (p) => p.p99LatencyS,
  },
  {
    name: 'bulkhead_pod_last_report_timestamp_seconds',
    help: "When the pod's sidecar last reported (Unix time)",
    value: (p) => p.lastReportS,
  },
  { name: 'bulkhead_pod_restarts', help: 'Container restarts seen in the health window', value: (p) => p.restarts },
  { name: 'bulkhead_pod_oom_kills', help: 'OOM kills seen in the health window', value: (p) => p.oomKills },
  {
    name: 'bulkhead_pod_sidecar_dropped_samples',
    help: 'Samples the sidecar reported dropping (cumulative)',
    value: (p) => p.droppedBySidecar,
  },
  {
    name: 'bulkhead_pod_sample_gaps',
    help: 'Samples missing between received sequence numbers (cumulative)',
    value: (p) => p.gaps,
  },
  {
    name: 'bulkhead_pod_processes',
    help: 'Processes in the pod (sidecar process stats)',
    value: (p) => p.process?.count,
  },
  {
    name: 'bulkhead_pod_threads',
    help: 'Threads in the pod (sidecar process stats)',
    value: (p) => p.process?.threads,
  },
  {
    name: 'bulkhead_pod_rss_bytes',
    help: 'Resident memory of the pod’s processes (sidecar process stats)',
    value: (p) => p.process?.rssBytes,
  },
];

const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Worst first: lowest success ratio (no samples counts as healthy), then most restarts, then by name. */
function byConcern(a: PodSummary, b: PodSummary): number {
  const ra = ratio(a) ?? 1;
  const rb = ratio(b) ?? 1;
  if (ra !== rb) return ra - rb;
  if (a.restarts + a.oomKills !== b.restarts + b.oomKills) return b.restarts + b.oomKills - (a.restarts + a.oomKills);
  return a.namespace === b.namespace ? a.pod.localeCompare(b.pod) : a.namespace.localeCompare(b.namespace);
}

/**
 * Pure: health windows → Prometheus text exposition (version 0.0.4), bounded as said above.
 * `leader`: whether this replica leads (only the leader ingests reports, ADR 1500), exported
 * so a query can keep the leader's series: `bulkhead_pod_probe_up * on(instance) group_left
 * bulkhead_health_export_leader == 1` or simply `max by (namespace, pod)`.
 */
export function healthExposition(
  windows: Iterable<PodHealthWindow>,
  opts: { maxPods?: number; leader: boolean },
): string {
  const maxPods = opts.maxPods ?? EXPORT_DEFAULTS.maxPods;
  const all: PodSummary[] = [];
  for (const w of windows) all.push(summarize(w));
  all.sort(byConcern);
  const kept = all.slice(0, maxPods);
  kept.sort((a, b) =>
    a.namespace === b.namespace ? a.pod.localeCompare(b.pod) : a.namespace.localeCompare(b.namespace),
  );
  const lines: string[] = [];
  for (const f of FAMILIES) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} gauge`);
    for (const p of kept) {
      const base = `namespace="${escape(p.namespace)}",pod="${escape(p.pod)}",policy="${escape(p.policy)}"`;
      const v = f.value(p);
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const [k, lv, n] of v) lines.push(`${f.name}{${base},${k}="${lv}"} ${n}`);
      else lines.push(`${f.name}{${base}} ${v}`);
    }
  }
  lines.push(
    '# HELP bulkhead_health_export_pods Pods in this replica’s health store, exported or dropped past the bound',
    '# TYPE bulkhead_health_export_pods gauge',
    `bulkhead_health_export_pods{state="exported"} ${kept.length}`,
    `bulkhead_health_export_pods{state="dropped"} ${all.length - kept.length}`,
    '# HELP bulkhead_health_export_max_pods The bound: pods exported at most per scrape',
    '# TYPE bulkhead_health_export_max_pods gauge',
    `bulkhead_health_export_max_pods ${maxPods}`,
    '# HELP bulkhead_health_export_leader Whether this replica leads (only the leader ingests reports)',
    '# TYPE bulkhead_health_export_leader gauge',
    `bulkhead_health_export_leader ${opts.leader ? 1 : 0}`,
  );
  return `${lines.join('\n')}\n`;
}
