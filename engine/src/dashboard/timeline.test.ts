import { strict as assert } from 'node:assert';
import type { PodHealthWindow } from '../observe/index.js';
import { buildTimeline, niceCeil } from './timeline.js';

const NOW = Date.parse('2026-11-26T03:00:00Z');

describe('dashboard timeline (pure)', () => {
  const axis: [number, number][] = [
    [0, 1],
    [-5, 1],
    [Number.NaN, 1],
    [0.3, 0.5],
    [1, 1],
    [1.2, 2],
    [2.2, 2.5],
    [3, 5],
    [7, 10],
    [12, 20],
    [240, 250],
    [2100, 2500],
    [5000, 5000],
    [5001, 10000],
  ];
  for (const [v, want] of axis) it(`axis top for ${v} ms is ${want}`, () => assert.equal(niceCeil(v), want));

  it('points relative to the left edge; older samples and events fall off; failures counted', () => {
    const h: PodHealthWindow = {
      namespace: 'shop',
      pod: 'api-1',
      uid: 'u1',
      policy: 'web',
      droppedBySidecar: 2,
      gaps: 1,
      samples: [
        { seq: 1, time: new Date(NOW - 700_000).toISOString(), probe: { type: 'http', ok: true, latencyMs: 3 } },
        {
          seq: 2,
          time: new Date(NOW - 60_000).toISOString(),
          probe: { type: 'http', ok: true, latencyMs: 12, status: 200 },
        },
        {
          seq: 3,
          time: new Date(NOW - 30_000).toISOString(),
          probe: { type: 'http', ok: false, latencyMs: 2100, error: 'Timeout' },
        },
      ],
      events: [
        {
          time: new Date(NOW - 20_000).toISOString(),
          type: 'Restarted',
          container: 'app',
          restartCount: 2,
          exitCode: 137,
        },
        { time: new Date(NOW - 900_000).toISOString(), type: 'Ready' },
      ],
    };
    const t = buildTimeline(h, NOW, 600_000);
    assert.equal(t.from, NOW - 600_000);
    assert.equal(t.spanMs, 600_000);
    assert.deepEqual(t.points, [
      { t: 540_000, seq: 2, ok: true, latencyMs: 12, status: 200 },
      { t: 570_000, seq: 3, ok: false, latencyMs: 2100, error: 'Timeout' },
    ]);
    assert.equal(t.failures, 1);
    assert.equal(t.yMaxMs, 2500);
    assert.deepEqual(t.events, [{ t: 580_000, type: 'Restarted', detail: 'app · exit 137 · restarts 2' }]);
    assert.deepEqual([t.droppedBySidecar, t.gaps, t.policy], [2, 1, 'web']);
  });
});
