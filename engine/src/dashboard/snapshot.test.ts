import { strict as assert } from 'node:assert';
import type { HealthPolicy, PolicySource, Quarantine } from '../core/api/index.js';
import { HealthStore, type PodHealthWindow } from '../observe/index.js';
import {
  buildSnapshot,
  formatMatch,
  formatRef,
  podRow,
  sourceState,
  sourceView,
  text,
  type Listed,
  type SnapshotInput,
} from './snapshot.js';
import type { ConditionView } from './view-model.js';

const NOW = Date.parse('2026-11-26T03:00:00Z');
const iso = (msAgo: number): string => new Date(NOW - msAgo).toISOString();
const ok = <T>(items: T[]): Listed<T> => ({ items, truncated: false });
const cond = (type: string, status: string, reason = 'R', message = ''): ConditionView => ({
  type,
  status,
  reason,
  message,
});

const health = (
  name: string,
  samples: [ok: boolean, latencyMs: number][],
  over: Partial<PodHealthWindow> = {},
): PodHealthWindow => ({
  namespace: 'shop',
  pod: name,
  uid: `uid-${name}`,
  droppedBySidecar: 0,
  gaps: 0,
  lastReportAt: iso(1000),
  samples: samples.map(([good, latencyMs], i) => ({
    seq: i + 1,
    time: iso((samples.length - i) * 1000),
    probe: { type: 'http', ok: good, latencyMs },
  })),
  events: [],
  ...over,
});

const quarantine = (
  name: string,
  over: {
    uid?: string;
    phase?: 'Pending' | 'Isolated' | 'Released';
    time?: string;
    audit?: NonNullable<Quarantine['status']>['audit'];
  } = {},
): Quarantine => ({
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'Quarantine',
  metadata: { name, namespace: 'shop' },
  spec: {
    pod: { name, uid: over.uid ?? `uid-${name}` },
    policy: 'p',
    reason: 'ConsecutiveFailures',
    message: '3 consecutive probe failures',
    mode: 'Enforce',
    time: over.time ?? iso(5000),
    evidence: [{ time: iso(6000), source: 'Sidecar', detail: 'GET /healthz 503', value: 2100 }],
    actions: [{ type: 'Detach', time: iso(5000) }],
    recordPath: `records/c/shop/${name}.yaml`,
  },
  status: { phase: over.phase ?? 'Isolated', ...(over.audit ? { audit: over.audit } : {}) },
});

const input = (over: Partial<SnapshotInput> = {}): SnapshotInput => ({
  now: NOW,
  sources: ok([]),
  policies: ok([]),
  quarantines: ok([]),
  pods: [],
  query: { page: 1, pageSize: 20 },
  ...over,
});

describe('dashboard snapshot (pure view model)', () => {
  describe('source state from conditions', () => {
    const cases: [string, ConditionView[], string][] = [
      ['no conditions', [], 'Unknown'],
      ['Ready=True', [cond('Ready', 'True')], 'Ready'],
      ['Ready=False only', [cond('Ready', 'False')], 'NotReady'],
      ['Stalled wins over Ready', [cond('Ready', 'True'), cond('Stalled', 'True')], 'Stalled'],
      ['Reconciling', [cond('Ready', 'Unknown'), cond('Reconciling', 'True')], 'Reconciling'],
      ['Stalled=False is not stalled', [cond('Ready', 'True'), cond('Stalled', 'False')], 'Ready'],
    ];
    for (const [name, cs, want] of cases) it(name, () => assert.equal(sourceState(cs), want));
  });

  it('formats refs and matches', () => {
    assert.equal(formatRef(undefined), 'branch main');
    assert.equal(formatRef({ branch: 'prod', tag: 'v1' }), 'tag v1');
    assert.equal(formatRef({ tag: 'v1', commit: 'abc' }), 'commit abc');
    assert.equal(formatMatch(undefined), 'all pods');
    assert.equal(
      formatMatch({
        namespaces: ['a', 'b'],
        namespaceSelector: { matchLabels: { env: 'prod' } },
        selector: {
          matchLabels: { app: 'web' },
          matchExpressions: [
            { key: 'tier', operator: 'In', values: ['x', 'y'] },
            { key: 'canary', operator: 'DoesNotExist' },
          ],
        },
      }),
      'namespaces a,b; namespaces with env=prod; pods with app=web, tier in (x,y), !canary',
    );
  });

  it('a rejected revision: attempted differs from applied, its errors listed with locations', () => {
    const s: PolicySource = {
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'PolicySource',
      metadata: { name: 'fleet' },
      spec: { url: 'https://git.example/p.git' },
      status: {
        lastAppliedRevision: 'main@aaa',
        lastAttemptedRevision: 'main@bbb',
        validationErrors: [
          { file: 'policies/a.yaml', line: 3, column: 5, code: 'BH_INVALID_VALUE', message: 'must be one of …' },
        ],
        conditions: [
          { type: 'Ready', status: 'True', reason: 'Applied', message: 'm', lastTransitionTime: iso(0) },
          {
            type: 'Stalled',
            status: 'True',
            reason: 'ValidationFailed',
            message: '1 error',
            lastTransitionTime: iso(0),
          },
        ],
      },
    };
    const v = sourceView(s);
    assert.equal(v.state, 'Stalled');
    assert.equal(v.rejected, true);
    assert.deepEqual(v.errors, [
      { file: 'policies/a.yaml', line: 3, column: 5, code: 'BH_INVALID_VALUE', message: 'must be one of …' },
    ]);
    // Applied and attempted the same: nothing rejected.
    assert.equal(
      sourceView({ ...s, status: { lastAppliedRevision: 'x', lastAttemptedRevision: 'x' } }).rejected,
      false,
    );
  });

  it('policies: action, mode default, last action and budget', () => {
    const p: HealthPolicy = {
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'HealthPolicy',
      metadata: { name: 'web' },
      spec: {
        match: {},
        probe: { http: { path: '/', port: 80 } },
        detect: { rules: [{ type: 'ConsecutiveFailures', threshold: 3 }] },
        action: { type: 'Quarantine' },
      },
      status: {
        matchedPods: 4,
        lastAction: { type: 'Quarantine', mode: 'DryRun', namespace: 'shop', pod: 'a', time: iso(0) },
        budget: { exhausted: true, quarantined: 1 },
        conditions: [{ type: 'Ready', status: 'False', reason: 'Invalid', message: '', lastTransitionTime: iso(0) }],
      },
    };
    const s = buildSnapshot(input({ policies: ok([p]) }));
    const v = s.policies.items[0]!;
    assert.equal(v.mode, 'Enforce');
    assert.equal(v.matchedPods, 4);
    assert.equal(v.lastAction, 'Quarantine (dry run) shop/a');
    assert.equal(v.budgetExhausted, true);
    assert.equal(v.quarantinedNow, 1);
    assert.equal(v.ready, 'Invalid');
  });

  describe('pod state', () => {
    const cases: [string, PodHealthWindow, string][] = [
      [
        'last probe ok',
        health('a', [
          [false, 5],
          [true, 3],
        ]),
        'Healthy',
      ],
      [
        'last probe failed',
        health('a', [
          [true, 3],
          [false, 2000],
        ]),
        'Failing',
      ],
      ['reported long ago', health('a', [[true, 3]], { lastReportAt: iso(120_000) }), 'Stale'],
      ['reporting, but no recent probe', health('a', []), 'NoData'],
      ['never reported', health('a', [], { lastReportAt: undefined } as Partial<PodHealthWindow>), 'NoData'],
    ];
    for (const [name, h, want] of cases) it(name, () => assert.equal(podRow(h, NOW, new Set(), 60_000).state, want));
  });

  it('pod list: quarantined first, then failing, then by name; filtered and paged', () => {
    const pods = [
      health('c', [[true, 1]]),
      health('b', [[false, 1]]),
      health('a', [[true, 1]]),
      health('q', [[true, 1]]),
      { ...health('other', [[true, 1]]), namespace: 'ops' },
    ];
    const s = buildSnapshot(input({ pods, quarantines: ok([quarantine('q')]), query: { page: 1, pageSize: 3 } }));
    assert.deepEqual(
      s.pods.items.map((r) => r.pod),
      ['q', 'b', 'other'],
    );
    assert.equal(s.pods.items[0]!.quarantined, true);
    assert.deepEqual([s.pods.total, s.pods.pages, s.pods.page], [5, 2, 1]);
    const p2 = buildSnapshot(input({ pods, quarantines: ok([quarantine('q')]), query: { page: 2, pageSize: 3 } }));
    assert.deepEqual(
      p2.pods.items.map((r) => r.pod),
      ['a', 'c'],
    );
    // Past the last page: the last page.
    assert.equal(buildSnapshot(input({ pods, query: { page: 99, pageSize: 3 } })).pods.page, 2);
    assert.deepEqual(
      buildSnapshot(input({ pods, query: { page: 1, pageSize: 20, namespace: 'ops' } })).pods.items.map((r) => r.pod),
      ['other'],
    );
    assert.deepEqual(
      buildSnapshot(input({ pods, query: { page: 1, pageSize: 20, q: 'SHOP/B' } })).pods.items.map((r) => r.pod),
      ['b'],
    );
    // A page is never larger than 100, whatever is asked.
    assert.equal(buildSnapshot(input({ pods, query: { page: 1, pageSize: 10_000 } })).pods.pageSize, 100);
  });

  it('10,000 pods: one bounded page, whatever the store holds', () => {
    const store = new HealthStore({ samplesPerPod: 4, now: () => NOW });
    for (let i = 0; i < 10_000; i++) {
      store.addReport({
        pod: { namespace: `ns-${i % 50}`, name: `pod-${i}`, uid: `u-${i}` },
        sidecar: { version: '1', instance: 'i' },
        dropped: 0,
        samples: [{ seq: 1, time: iso(1000), probe: { type: 'http', ok: i % 100 !== 0, latencyMs: 5 } }],
      });
    }
    const s = buildSnapshot(input({ pods: store.query({ sinceMs: NOW - 15_000 }), query: { page: 3, pageSize: 20 } }));
    assert.deepEqual([s.pods.total, s.pods.pages, s.pods.items.length], [10_000, 500, 20]);
    assert.equal(s.summary.failingPods, 100);
    assert.ok(JSON.stringify(s).length < 16 * 1024, 'a page stays small');
    // Failing pods come first: the first 100 rows of the list are the failing ones.
    assert.ok(s.pods.items.every((r) => r.state === 'Failing'));
  });

  it('a released quarantine does not mark its pod', () => {
    const s = buildSnapshot(
      input({ pods: [health('q', [[true, 1]])], quarantines: ok([quarantine('q', { phase: 'Released' })]) }),
    );
    assert.equal(s.pods.items[0]!.quarantined, false);
  });

  it('quarantines: newest first, audit state and path, evidence and actions; summary counts', () => {
    const s = buildSnapshot(
      input({
        quarantines: ok([
          quarantine('old', { time: iso(60_000) }),
          quarantine('new', {
            time: iso(1000),
            audit: { state: 'Committed', commit: 'f00d', path: 'records/c/shop/new.yaml' },
          }),
        ]),
        pods: [health('x', [[false, 9]])],
      }),
    );
    assert.deepEqual(
      s.quarantines.items.map((q) => q.name),
      ['new', 'old'],
    );
    assert.deepEqual(s.quarantines.items[0]!.audit, {
      state: 'Committed',
      commit: 'f00d',
      path: 'records/c/shop/new.yaml',
    });
    assert.deepEqual(
      s.quarantines.items[1]!.audit,
      { state: 'Pending', path: 'records/c/shop/old.yaml' },
      'record path from the spec until the audit names one',
    );
    assert.equal(s.quarantines.items[0]!.evidence[0]!.detail, 'GET /healthz 503');
    assert.equal(s.quarantines.items[0]!.actions[0]!.type, 'Detach');
    assert.deepEqual(s.summary, {
      sources: 0,
      sourcesNotReady: 0,
      policies: 0,
      pods: 1,
      failingPods: 1,
      quarantines: 2,
      isolated: 2,
      auditPending: 1,
    });
  });

  it('a list that could not be read is reported in its section; the rest still shows', () => {
    const s = buildSnapshot(
      input({
        sources: { items: [], truncated: false, error: 'forbidden' },
        quarantines: { items: [quarantine('a')], truncated: true },
      }),
    );
    assert.equal(s.sources.error, 'forbidden');
    assert.equal(s.quarantines.truncated, true);
    assert.equal(s.quarantines.items.length, 1);
  });

  it('bounds every string from the cluster and keeps markup as data (escaping is the page’s job)', () => {
    const long = 'x'.repeat(5000);
    const q = quarantine('a');
    q.spec.message = `<img src=x onerror=alert(1)>${long}`;
    const v = buildSnapshot(input({ quarantines: ok([q]) })).quarantines.items[0]!;
    assert.equal(v.message.length, 1024);
    assert.ok(v.message.startsWith('<img src=x onerror=alert(1)>'));
    assert.equal(text(undefined), '');
    assert.equal(text(42), '42');
  });

  it('tolerates objects without status or with junk where lists should be', () => {
    const q = quarantine('a');
    delete q.status;
    (q.spec as unknown as Record<string, unknown>).evidence = 'not a list';
    const v = buildSnapshot(input({ quarantines: ok([q]) })).quarantines.items[0]!;
    assert.equal(v.phase, 'Pending');
    assert.deepEqual(v.evidence, []);
  });
});
