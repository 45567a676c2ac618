import { strict as assert } from 'node:assert';
import type { PodHealthWindow } from '../observe/index.js';
import { SERIES_PER_POD, healthExposition } from './health-series.js';

const window = (pod: string, oks: boolean[], extra: Partial<PodHealthWindow> = {}): PodHealthWindow => ({
  namespace: 'shop',
  pod,
  uid: `uid-${pod}`,
  policy: 'shop-hp',
  droppedBySidecar: 0,
  gaps: 0,
  lastReportAt: '2026-12-02T12:00:00.000Z',
  samples: oks.map((ok, i) => ({
    seq: i + 1,
    time: new Date(Date.parse('2026-12-02T12:00:00Z') + i * 1000).toISOString(),
    probe: { type: 'http', ok, latencyMs: 10 + i },
  })),
  events: [],
  ...extra,
});

const series = (text: string): string[] => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

describe('health export (Prometheus text)', () => {
  it("exports a failing pod's probe state, ratio, samples, latency and restarts, labelled namespace/pod/policy only", () => {
    const text = healthExposition(
      [
        window('api-1', [true, false, false], {
          events: [{ time: '2026-12-02T12:00:01Z', type: 'Restarted', restartCount: 1 }],
          process: { count: 3, cpuSeconds: 1, rssBytes: 1000, openFds: 9, threads: 7 },
        }),
      ],
      { leader: true },
    );
    const l = 'namespace="shop",pod="api-1",policy="shop-hp"';
    for (const want of [
      `bulkhead_pod_probe_up{${l}} 0`,
      `bulkhead_pod_probe_success_ratio{${l}} ${1 / 3}`,
      `bulkhead_pod_probe_samples{${l},result="ok"} 1`,
      `bulkhead_pod_probe_samples{${l},result="failed"} 2`,
      `bulkhead_pod_probe_latency_seconds{${l}} 0.012`,
      `bulkhead_pod_probe_latency_p99_seconds{${l}} 0.012`,
      `bulkhead_pod_last_report_timestamp_seconds{${l}} ${Date.parse('2026-12-02T12:00:00Z') / 1000}`,
      `bulkhead_pod_restarts{${l}} 1`,
      `bulkhead_pod_processes{${l}} 3`,
      `bulkhead_pod_threads{${l}} 7`,
      'bulkhead_health_export_leader 1',
      'bulkhead_health_export_pods{state="exported"} 1',
    ])
      assert.ok(series(text).includes(want), `${want}\n${text}`);
    assert.ok(series(text).filter((s) => s.includes('pod="api-1"')).length <= SERIES_PER_POD);
    assert.ok(!text.includes('uid-api-1'), 'no uid label');
  });

  it('past the bound keeps the worst pods, drops the healthiest and says how many', () => {
    const windows = [
      ...Array.from({ length: 10 }, (_, i) => window(`ok-${i}`, [true, true])),
      window('bad', [false, false]),
      window('flaky', [true, false]),
    ];
    const text = healthExposition(windows, { leader: false, maxPods: 3 });
    const pods = new Set(series(text).flatMap((s) => /pod="([^"]+)"/.exec(s)?.[1] ?? []));
    assert.deepEqual([...pods].sort(), ['bad', 'flaky', 'ok-0']);
    assert.ok(series(text).includes('bulkhead_health_export_pods{state="dropped"} 9'));
    assert.ok(series(text).includes('bulkhead_health_export_max_pods 3'));
    assert.ok(series(text).includes('bulkhead_health_export_leader 0'));
  });

  it('escapes label values and leaves out what a pod has no data for', () => {
    const text = healthExposition([window('p', [], { policy: 'a"b\\c' })], { leader: true });
    assert.ok(text.includes('policy="a\\"b\\\\c"'));
    assert.ok(!series(text).some((s) => s.startsWith('bulkhead_pod_probe_up')), 'no samples: no probe_up');
    assert.ok(!series(text).some((s) => s.startsWith('bulkhead_pod_processes')), 'no process stats');
  });
});
