import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { HealthStore } from './health-store.js';
import type { HealthSample } from './report.js';

const T0 = Date.parse('2026-11-26T00:00:00Z');
const pod = (n: number): { namespace: string; name: string; uid: string } => ({
  namespace: 'shop',
  name: `web-${n}`,
  uid: `uid-${n}`,
});
const sample = (seq: number, ok = true, extra: Partial<HealthSample['probe']> = {}): HealthSample => ({
  seq,
  time: new Date(T0 + seq * 1000).toISOString(),
  probe: {
    type: 'http',
    ok,
    latencyMs: 1.25,
    status: ok ? 200 : 500,
    ...(ok ? {} : { error: 'UnexpectedStatus' as const }),
    ...extra,
  },
});
const rep = (n: number, samples: HealthSample[], dropped = 0, instance = 'i1') => ({
  pod: pod(n),
  sidecar: { version: '0.1.0', instance },
  dropped,
  samples,
});

describe('observe HealthStore', () => {
  let now = T0 + 1_000_000;
  beforeEach(() => (now = T0 + 1_000_000));

  it('stores samples compactly and returns them as they came, oldest first', () => {
    const s = new HealthStore({ now: () => now, maxAgeMs: 1e9 });
    const r = s.addReport(
      rep(1, [sample(1), sample(2, false), sample(3, false, { type: 'tcp', status: undefined, error: 'Timeout' })]),
    );
    assert.deepEqual(r, { added: 3, duplicates: 0, droppedDelta: 0, gapsDelta: 0 });
    const h = s.get('uid-1')!;
    assert.deepEqual(h.samples, [
      sample(1),
      sample(2, false),
      { seq: 3, time: sample(3).time, probe: { type: 'tcp', ok: false, latencyMs: 1.25, error: 'Timeout' } },
    ]);
  });

  it('skips duplicates, counts gaps and the sidecar drop count, and restarts sequences with a new sidecar instance', () => {
    const s = new HealthStore({ now: () => now, maxAgeMs: 1e9 });
    s.addReport(rep(1, [sample(1), sample(2)]));
    assert.deepEqual(s.addReport(rep(1, [sample(2), sample(5)], 1)), {
      added: 1,
      duplicates: 1,
      droppedDelta: 1,
      gapsDelta: 2,
    });
    assert.equal(s.get('uid-1')!.gaps, 2);
    assert.equal(s.get('uid-1')!.droppedBySidecar, 1);
    assert.deepEqual(s.addReport(rep(1, [sample(1)], 0, 'i2')), {
      added: 1,
      duplicates: 0,
      droppedDelta: 0,
      gapsDelta: 0,
    });
    assert.equal(s.get('uid-1')!.sidecar?.instance, 'i2');
  });

  it('keeps at most samplesPerPod per pod (the oldest go) and hides samples older than maxAge or since', () => {
    const s = new HealthStore({ now: () => now, samplesPerPod: 4, maxAgeMs: 1e9 });
    s.addReport(
      rep(
        1,
        [1, 2, 3, 4, 5, 6].map((i) => sample(i)),
      ),
    );
    assert.deepEqual(
      s.get('uid-1')!.samples.map((x) => x.seq),
      [3, 4, 5, 6],
    );
    assert.deepEqual(
      s.get('uid-1', T0 + 5000)!.samples.map((x) => x.seq),
      [5, 6],
    );
    const aged = new HealthStore({ now: () => T0 + 10_000, maxAgeMs: 6_000 });
    aged.addReport(
      rep(
        1,
        [1, 2, 3, 4, 5, 6].map((i) => sample(i)),
      ),
    );
    assert.deepEqual(
      aged.get('uid-1')!.samples.map((x) => x.seq),
      [4, 5, 6],
    );
  });

  it("ignores the report's own policy claim; the policy is the one the engine sets from the cluster", () => {
    const s = new HealthStore({ now: () => now, maxAgeMs: 1e9 });
    s.addReport({ ...rep(1, [sample(1)]), policy: 'checkout-api' } as Parameters<HealthStore['addReport']>[0]);
    assert.equal(s.get('uid-1')!.policy, undefined);
    s.setPolicy('uid-1', 'web');
    assert.equal(s.get('uid-1')!.policy, 'web');
    s.addReport({ ...rep(1, [sample(2)]), policy: 'other' } as Parameters<HealthStore['addReport']>[0]);
    assert.equal(s.get('uid-1')!.policy, 'web');
    s.setPolicy('uid-1', undefined);
    assert.equal(s.get('uid-1')!.policy, undefined);
    s.setPolicy('uid-unknown', 'web');
    assert.equal(s.size, 1, 'setPolicy creates no window');
  });

  it('evicts the least recently updated pod beyond maxPods', () => {
    const s = new HealthStore({ now: () => now, maxPods: 3 });
    for (const n of [1, 2, 3]) s.addReport(rep(n, [sample(1)]));
    s.addReport(rep(1, [sample(2)])); // pod 1 is fresh again
    s.addReport(rep(4, [sample(1)]));
    assert.equal(s.size, 3);
    assert.equal(s.get('uid-2'), undefined, 'pod 2 was the least recently updated');
    assert.ok(s.get('uid-1'));
    assert.equal(s.evictions, 1);
  });

  it('keeps the last eventsPerPod events beside the samples, and queries by namespace and pod', () => {
    const s = new HealthStore({ now: () => now, eventsPerPod: 2, maxAgeMs: 1e9 });
    for (const [i, type] of (['Restarted', 'OOMKilled', 'NotReady'] as const).entries())
      s.addEvent(pod(1), { time: new Date(T0 + i).toISOString(), type });
    assert.deepEqual(
      s.get('uid-1')!.events.map((e) => e.type),
      ['OOMKilled', 'NotReady'],
    );
    s.addReport({ ...rep(2, [sample(1)]), pod: { namespace: 'other', name: 'x', uid: 'uid-x' } });
    assert.deepEqual(
      s.query({ namespace: 'shop' }).map((p) => p.pod),
      ['web-1'],
    );
    assert.deepEqual(
      s.query({ namespace: 'other', pod: 'x' }).map((p) => p.uid),
      ['uid-x'],
    );
    s.remove('uid-1');
    assert.equal(s.get('uid-1'), undefined);
  });

  it('holds 10,000 pods × 120 samples in the stated bound (typed arrays, ~23 B a sample)', () => {
    global.gc?.();
    const before = process.memoryUsage();
    const s = new HealthStore({ now: () => now, maxPods: 10_000, samplesPerPod: 120 });
    const samples = Array.from({ length: 120 }, (_, i) => sample(i + 1));
    for (let n = 0; n < 10_000; n++) s.addReport(rep(n, samples));
    const after = process.memoryUsage();
    const grew = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
    assert.equal(s.size, 10_000);
    // 10,000 × 120 × 23 B = 27.6 MB of samples, plus per-pod objects; the ADR states ≤ 70 MB.
    assert.ok(grew < 70 * 1024 * 1024, `grew ${Math.round(grew / 1024 / 1024)} MB`);
  });

  it('matches a simple model under random reports, removals and evictions (slots are reused without leaking samples)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constant('report' as const),
              pod: fc.integer({ min: 0, max: 9 }),
              n: fc.integer({ min: 1, max: 4 }),
            }),
            fc.record({ op: fc.constant('remove' as const), pod: fc.integer({ min: 0, max: 9 }) }),
          ),
          { maxLength: 120 },
        ),
        (ops) => {
          const s = new HealthStore({ now: () => now, maxPods: 4, samplesPerPod: 3, maxAgeMs: 1e12 });
          const model = new Map<number, number[]>(); // pod → seqs kept, in recency order of the Map
          const next = new Map<number, number>();
          for (const o of ops) {
            if (o.op === 'remove') {
              s.remove(`uid-${o.pod}`);
              model.delete(o.pod);
              continue;
            }
            const first = (next.get(o.pod) ?? 0) + 1;
            next.set(o.pod, first + o.n - 1);
            s.addReport(
              rep(
                o.pod,
                Array.from({ length: o.n }, (_, k) => sample(first + k)),
              ),
            );
            const kept = [...(model.get(o.pod) ?? []), ...Array.from({ length: o.n }, (_, k) => first + k)].slice(-3);
            model.delete(o.pod);
            if (model.size >= 4 && !model.has(o.pod)) model.delete(model.keys().next().value!);
            model.set(o.pod, kept);
          }
          assert.equal(s.size, model.size);
          for (let p = 0; p < 10; p++)
            assert.deepEqual(
              s.get(`uid-${p}`)?.samples.map((x) => x.seq),
              model.get(p),
              `pod ${p}`,
            );
        },
      ),
    );
  });
});
