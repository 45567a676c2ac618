// The dashboard's JSON shapes: what the page draws. Built by the pure functions in
// snapshot.ts and timeline.ts, served by routes.ts. Every string here may come from the
// cluster or a sidecar report (attacker-influenced): the page renders it as text only.
// The page script (browser/) imports these types, so this file holds types and nothing else.

export interface ConditionView {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

export interface ErrorView {
  file: string;
  line: number;
  column?: number;
  code: string;
  message: string;
}

export type SourceState = 'Ready' | 'NotReady' | 'Reconciling' | 'Stalled' | 'Unknown';

export interface SourceView {
  name: string;
  url: string;
  ref: string;
  suspended: boolean;
  state: SourceState;
  lastAppliedRevision?: string;
  lastAttemptedRevision?: string;
  /** The last attempted revision differs from the applied one: it was rejected (see errors). */
  rejected: boolean;
  policies?: number;
  conditions: ConditionView[];
  errors: ErrorView[];
}

export interface PolicyView {
  name: string;
  match: string;
  action: string;
  mode: string;
  ready: string;
  matchedPods?: number;
  lastAction?: string;
  lastActionTime?: string;
  quarantinedNow?: number;
  budgetExhausted: boolean;
  sourceRevision?: string;
  conditions: ConditionView[];
}

export interface QuarantineView {
  namespace: string;
  name: string;
  pod: string;
  podUid: string;
  node?: string;
  policy: string;
  reason: string;
  message: string;
  mode: string;
  time: string;
  phase: string;
  audit: { state: string; commit?: string; path?: string };
  evidence: { time: string; source: string; detail: string; value?: number }[];
  actions: { type: string; time: string; detail: string }[];
}

/** Healthy/Failing: the last recent probe; Stale: no report for a while; NoData: reporting, but no recent probe. */
export type PodState = 'Healthy' | 'Failing' | 'Stale' | 'NoData';

export interface PodRow {
  namespace: string;
  pod: string;
  uid: string;
  policy?: string;
  state: PodState;
  quarantined: boolean;
  lastLatencyMs?: number;
  /** Failed probes among the recent samples. */
  recentFailures: number;
  recentSamples: number;
  lastReportAt?: string;
  droppedBySidecar: number;
  gaps: number;
}

/** A list read from the cluster: its items, or why they could not be read. */
export interface Section<T> {
  items: T[];
  /** More exist than were read (the list was limited). */
  truncated: boolean;
  error?: string;
}

export interface PodPage {
  /** Pods matching the filter, before paging. */
  total: number;
  page: number;
  pageSize: number;
  pages: number;
  /** Window of the recent samples behind state and recentFailures (ms). */
  recentMs: number;
  items: PodRow[];
}

export interface DashboardSnapshot {
  generatedAt: string;
  summary: {
    sources: number;
    sourcesNotReady: number;
    policies: number;
    pods: number;
    failingPods: number;
    quarantines: number;
    isolated: number;
    auditPending: number;
  };
  sources: Section<SourceView>;
  policies: Section<PolicyView>;
  quarantines: Section<QuarantineView>;
  pods: PodPage;
}

export interface TimelinePoint {
  /** Milliseconds since `from`. */
  t: number;
  seq: number;
  ok: boolean;
  latencyMs: number;
  status?: number;
  error?: string;
}

export interface Timeline {
  namespace: string;
  pod: string;
  uid: string;
  policy?: string;
  /** Epoch ms of the chart's left edge (ISO in `fromIso`). */
  from: number;
  fromIso: string;
  /** Width of the time axis in ms. */
  spanMs: number;
  /** Top of the latency axis: a round number at or above the largest latency. */
  yMaxMs: number;
  points: TimelinePoint[];
  failures: number;
  events: { t: number; type: string; detail: string }[];
  droppedBySidecar: number;
  gaps: number;
}
