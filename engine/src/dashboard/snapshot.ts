import { displayUrl } from '../source/index.js';
import type { HealthPolicy, LabelSelector, PolicySource, Quarantine } from '../core/api/index.js';
import type { PodHealthWindow } from '../observe/index.js';
import type {
  ConditionView,
  DashboardSnapshot,
  PodRow,
  PodState,
  PolicyView,
  QuarantineView,
  Section,
  SourceState,
  SourceView,
} from './view-model.js';

/**
 * The dashboard's view model, built from what the engine already has: the three lists read
 * from the cluster and the recent part of the in-memory health windows. Pure: no I/O, no
 * clock (now is passed in), so every rule below is table-tested.
 */

/** A list read from the apiserver: the objects, or why it failed. */
export interface Listed<T> {
  items: T[];
  truncated: boolean;
  error?: string;
}

export interface PodQuery {
  namespace?: string;
  /** Case-insensitive substring of "namespace/pod". */
  q?: string;
  page: number;
  pageSize: number;
}

export interface SnapshotInput {
  now: number;
  sources: Listed<PolicySource>;
  policies: Listed<HealthPolicy>;
  quarantines: Listed<Quarantine>;
  /** Health windows holding only recent samples (the caller queries the store with a since). */
  pods: readonly PodHealthWindow[];
  query: PodQuery;
  /** How far back `pods` holds samples (shown beside the failure counts; default 15 s). */
  recentMs?: number;
  /** A pod whose last report is older than this is Stale (default 60 s). */
  staleAfterMs?: number;
}

/** Longest string the page gets from any one field: bounds the response whatever the cluster holds. */
export const MAX_TEXT = 1024;
export const MAX_PAGE_SIZE = 100;

export function text(v: unknown, max = MAX_TEXT): string {
  const s = typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

const optText = (v: unknown, max = MAX_TEXT): string | undefined =>
  v === undefined || v === null || v === '' ? undefined : text(v, max);
const optNum = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const list = <T>(v: unknown, max: number): T[] => (Array.isArray(v) ? (v.slice(0, max) as T[]) : []);

export function conditionsOf(v: unknown): ConditionView[] {
  return list<Record<string, unknown>>(v, 16).map((c) => ({
    type: text(c.type, 64),
    status: text(c.status, 16),
    reason: text(c.reason, 128),
    message: text(c.message),
    ...(typeof c.lastTransitionTime === 'string' ? { lastTransitionTime: text(c.lastTransitionTime, 40) } : {}),
  }));
}

const isTrue = (cs: ConditionView[], type: string): boolean => cs.some((c) => c.type === type && c.status === 'True');

export function sourceState(cs: ConditionView[]): SourceState {
  if (isTrue(cs, 'Stalled')) return 'Stalled';
  if (isTrue(cs, 'Reconciling')) return 'Reconciling';
  const ready = cs.find((c) => c.type === 'Ready');
  if (!ready || ready.status === 'Unknown') return 'Unknown';
  return ready.status === 'True' ? 'Ready' : 'NotReady';
}

export function formatRef(ref: PolicySource['spec']['ref'] | undefined): string {
  if (ref?.commit) return `commit ${text(ref.commit, 40)}`;
  if (ref?.tag) return `tag ${text(ref.tag, 128)}`;
  return `branch ${text(ref?.branch ?? 'main', 128)}`;
}

export function sourceView(s: PolicySource): SourceView {
  const conditions = conditionsOf(s.status?.conditions);
  const applied = optText(s.status?.lastAppliedRevision, 128);
  const attempted = optText(s.status?.lastAttemptedRevision, 128);
  return {
    name: text(s.metadata?.name, 253),
    // Never a URL's userinfo: the dashboard is read by people who must not see credentials (ADR 1413).
    url: text(displayUrl(text(s.spec?.url))),
    ref: formatRef(s.spec?.ref),
    suspended: s.spec?.suspend === true,
    state: sourceState(conditions),
    ...(applied ? { lastAppliedRevision: applied } : {}),
    ...(attempted ? { lastAttemptedRevision: attempted } : {}),
    rejected:
      attempted !== undefined &&
      attempted !== applied &&
      (s.status?.validationErrors?.length ?? 0) + (isTrue(conditions, 'Stalled') ? 1 : 0) > 0,
    ...(optNum(s.status?.policies) !== undefined ? { policies: optNum(s.status?.policies)! } : {}),
    conditions,
    errors: list<Record<string, unknown>>(s.status?.validationErrors, 50).map((e) => ({
      file: text(e.file, 512),
      line: optNum(e.line) ?? 0,
      ...(optNum(e.column) !== undefined ? { column: optNum(e.column)! } : {}),
      code: text(e.code, 64),
      message: text(e.message),
    })),
  };
}

export function formatSelector(sel: LabelSelector | undefined): string {
  if (!sel) return '';
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v ?? ''}`);
  for (const e of sel.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${(e.values ?? []).join(',')})`);
  }
  return parts.join(', ');
}

export function formatMatch(m: HealthPolicy['spec']['match'] | undefined): string {
  const parts: string[] = [];
  if (m?.namespaces?.length) parts.push(`namespaces ${m.namespaces.join(',')}`);
  const nsSel = formatSelector(m?.namespaceSelector);
  if (nsSel) parts.push(`namespaces with ${nsSel}`);
  const podSel = formatSelector(m?.selector);
  parts.push(podSel ? `pods with ${podSel}` : 'all pods');
  return text(parts.join('; '));
}

export function policyView(p: HealthPolicy): PolicyView {
  const conditions = conditionsOf(p.status?.conditions);
  const ready = conditions.find((c) => c.type === 'Ready');
  const la = p.status?.lastAction;
  const lastAction = la?.type
    ? text(`${la.type}${la.mode === 'DryRun' ? ' (dry run)' : ''}${la.pod ? ` ${la.namespace ?? ''}/${la.pod}` : ''}`)
    : undefined;
  return {
    name: text(p.metadata?.name, 253),
    match: formatMatch(p.spec?.match),
    action: text(p.spec?.action?.type, 32),
    mode: text(p.spec?.action?.mode ?? 'Enforce', 16),
    ready: ready ? (ready.status === 'True' ? 'Ready' : ready.reason || 'NotReady') : 'Unknown',
    ...(optNum(p.status?.matchedPods) !== undefined ? { matchedPods: optNum(p.status?.matchedPods)! } : {}),
    ...(lastAction ? { lastAction } : {}),
    ...(la?.time ? { lastActionTime: text(la.time, 40) } : {}),
    ...(optNum(p.status?.budget?.quarantined) !== undefined
      ? { quarantinedNow: optNum(p.status?.budget?.quarantined)! }
      : {}),
    budgetExhausted: p.status?.budget?.exhausted === true,
    ...(p.status?.sourceRevision ? { sourceRevision: text(p.status.sourceRevision, 128) } : {}),
    conditions,
  };
}

export function quarantineView(q: Quarantine): QuarantineView {
  const audit = q.status?.audit;
  return {
    namespace: text(q.metadata?.namespace, 63),
    name: text(q.metadata?.name, 253),
    pod: text(q.spec?.pod?.name, 253),
    podUid: text(q.spec?.pod?.uid, 64),
    ...(q.spec?.node ? { node: text(q.spec.node, 253) } : {}),
    policy: text(q.spec?.policy, 253),
    reason: text(q.spec?.reason, 64),
    message: text(q.spec?.message),
    mode: text(q.spec?.mode, 16),
    time: text(q.spec?.time, 40),
    phase: text(q.status?.phase ?? 'Pending', 16),
    audit: {
      state: text(audit?.state ?? 'Pending', 16),
      ...(audit?.commit ? { commit: text(audit.commit, 64) } : {}),
      ...((audit?.path ?? q.spec?.recordPath) ? { path: text(audit?.path ?? q.spec?.recordPath, 512) } : {}),
    },
    evidence: list<Record<string, unknown>>(q.spec?.evidence, 20).map((e) => ({
      time: text(e.time, 40),
      source: text(e.source, 16),
      detail: text(e.detail),
      ...(optNum(e.value) !== undefined ? { value: optNum(e.value)! } : {}),
    })),
    actions: list<Record<string, unknown>>(q.spec?.actions, 16).map((a) => ({
      type: text(a.type, 32),
      time: text(a.time, 40),
      detail: text(a.detail),
    })),
  };
}

/** The pod a health window is about, as the page names it (a pod row and its timeline alike). */
export function podIdentity(h: PodHealthWindow): { namespace: string; pod: string; uid: string; policy?: string } {
  return {
    namespace: text(h.namespace, 253),
    pod: text(h.pod, 253),
    uid: text(h.uid, 64),
    ...(h.policy ? { policy: text(h.policy, 253) } : {}),
  };
}

export function podRow(
  h: PodHealthWindow,
  now: number,
  quarantinedUids: ReadonlySet<string>,
  staleAfterMs: number,
): PodRow {
  const last = h.samples[h.samples.length - 1];
  const lastReport = h.lastReportAt ? Date.parse(h.lastReportAt) : undefined;
  let state: PodState;
  if (lastReport !== undefined && now - lastReport > staleAfterMs) state = 'Stale';
  else if (!last) state = 'NoData';
  else state = last.probe.ok ? 'Healthy' : 'Failing';
  return {
    ...podIdentity(h),
    state,
    quarantined: quarantinedUids.has(h.uid),
    ...(last ? { lastLatencyMs: last.probe.latencyMs } : {}),
    recentFailures: h.samples.filter((s) => !s.probe.ok).length,
    recentSamples: h.samples.length,
    ...(h.lastReportAt ? { lastReportAt: h.lastReportAt } : {}),
    droppedBySidecar: h.droppedBySidecar,
    gaps: h.gaps,
  };
}

const STATE_ORDER: Record<PodState, number> = { Failing: 0, Stale: 1, NoData: 2, Healthy: 3 };

/** Quarantined and failing pods first (what an operator opens the page for), then by name. */
export function comparePods(a: PodRow, b: PodRow): number {
  if (a.quarantined !== b.quarantined) return a.quarantined ? -1 : 1;
  if (a.state !== b.state) return STATE_ORDER[a.state] - STATE_ORDER[b.state];
  if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1;
  return a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0;
}

const section = <I, O>(l: Listed<I>, view: (i: I) => O, order: (a: O, b: O) => number): Section<O> => ({
  items: l.items.map(view).sort(order),
  truncated: l.truncated,
  ...(l.error ? { error: text(l.error) } : {}),
});

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function buildSnapshot(input: SnapshotInput): DashboardSnapshot {
  const staleAfterMs = input.staleAfterMs ?? 60_000;
  const sources = section(input.sources, sourceView, byName);
  const policies = section(input.policies, policyView, byName);
  // Newest quarantine first.
  const quarantines = section(input.quarantines, quarantineView, (a, b) =>
    a.time === b.time ? byName(a, b) : a.time < b.time ? 1 : -1,
  );
  const held = new Set(quarantines.items.filter((q) => q.phase !== 'Released').map((q) => q.podUid));

  const q = input.query.q?.toLowerCase();
  const rows = input.pods
    .filter(
      (h) =>
        (input.query.namespace === undefined || h.namespace === input.query.namespace) &&
        (!q || `${h.namespace}/${h.pod}`.toLowerCase().includes(q)),
    )
    .map((h) => podRow(h, input.now, held, staleAfterMs))
    .sort(comparePods);
  const pageSize = Math.min(Math.max(1, Math.floor(input.query.pageSize)), MAX_PAGE_SIZE);
  const pages = Math.max(1, Math.ceil(rows.length / pageSize));
  const page = Math.min(Math.max(1, Math.floor(input.query.page)), pages);

  return {
    generatedAt: new Date(input.now).toISOString(),
    summary: {
      sources: sources.items.length,
      sourcesNotReady: sources.items.filter((s) => s.state !== 'Ready').length,
      policies: policies.items.length,
      pods: input.pods.length,
      failingPods: input.pods.reduce(
        (n, h) => n + (h.samples.length > 0 && !h.samples[h.samples.length - 1]!.probe.ok ? 1 : 0),
        0,
      ),
      quarantines: quarantines.items.length,
      isolated: quarantines.items.filter((x) => x.phase === 'Isolated').length,
      auditPending: quarantines.items.filter((x) => x.audit.state !== 'Committed').length,
    },
    sources,
    policies,
    quarantines,
    pods: {
      total: rows.length,
      page,
      pageSize,
      pages,
      recentMs: input.recentMs ?? 15_000,
      items: rows.slice((page - 1) * pageSize, page * pageSize),
    },
  };
}
