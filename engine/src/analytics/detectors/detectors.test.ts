import { strict as assert } from 'node:assert';
import type { DetectRule, HealthPolicy } from '../../core/api/index.js';
import type { PodHealth, ProbeSample } from '../types.js';
import { detectConsecutiveFailures } from './consecutive-failures.js';
import { detectErrorRate } from './error-rate.js';
import { detectIdentityRejections } from './identity-rejections.js';
import { detectSignals, ewmaBaseline } from './index.js';
import { detectLatencyP99 } from './latency-p99.js';
import { detectLifecycle } from './lifecycle.js';
import { detectProcessAnomaly } from './process-anomaly.js';

const NOW = 1_000_000;
const pod = (over: Partial<PodHealth> = {}): PodHealth => ({
  namespace: 'shop',
  name: 'api-1',
  uid: 'u1',
  labels: {},
  samples: [],
  events: [],
  ...over,
});
/** Samples one second apart ending at NOW, from a pattern: '.' ok, 'x' failed. */
const samples = (pattern: string, latencyMs = 5): ProbeSample[] =>
  [...pattern].map((c, i) => ({ t: NOW - (pattern.length - 1 - i) * 1000, ok: c === '.', latencyMs }));

describe('detectors', () => {
  describe('ConsecutiveFailures', () => {
    const rule: DetectRule = { type: 'ConsecutiveFailures', threshold: 3 };
    const table: [string, boolean][] = [
      ['', false],
      ['...', false],
      ['..xx', false],
      ['..xxx', true],
      ['xxx.', false], // recovered: the newest sample is ok
      ['x.xxxx', true],
    ];
    for (const [pattern, fires] of table) {
      it(`"${pattern}" → ${fires ? 'fires' : 'quiet'}`, () => {
        const s = detectConsecutiveFailures(pod({ samples: samples(pattern) }), rule, NOW);
        assert.equal(s !== null, fires);
        if (s) {
          assert.equal(s.reason, 'ConsecutiveProbeFailures');
          assert.ok(s.evidence.length >= 3 && s.evidence.every((e) => 'ok' in e && !e.ok));
        }
      });
    }
    it('defaults the threshold to 3', () => {
      assert.equal(
        detectConsecutiveFailures(pod({ samples: samples('xx') }), { type: 'ConsecutiveFailures' }, NOW),
        null,
      );
      assert.ok(detectConsecutiveFailures(pod({ samples: samples('xxx') }), { type: 'ConsecutiveFailures' }, NOW));
    });
  });

  describe('ErrorRate', () => {
    const rule: DetectRule = { type: 'ErrorRate', ratio: 0.5, window: '10s', minSamples: 4 };
    const table: [string, string, boolean][] = [
      ['too few samples', 'xxx', false],
      ['below ratio', '....x.x.', false],
      ['at ratio', '..xx', true],
      ['old failures outside the window', 'xxxxxxxxxx' + '..........', false],
      ['flapping half the time', '.x.x.x.x', true],
    ];
    for (const [name, pattern, fires] of table) {
      it(`${name} → ${fires ? 'fires' : 'quiet'}`, () =>
        assert.equal(detectErrorRate(pod({ samples: samples(pattern) }), rule, NOW) !== null, fires));
    }
  });

  describe('LatencyP99 against the pod’s own baseline', () => {
    const history = (n: number, ms: number): ProbeSample[] =>
      Array.from({ length: n }, (_, i) => ({ t: NOW - 600_000 + i * 1000, ok: true, latencyMs: ms }));
    const recent = (n: number, ms: number): ProbeSample[] =>
      Array.from({ length: n }, (_, i) => ({ t: NOW - i * 1000, ok: true, latencyMs: ms }));
    const relRule: DetectRule = { type: 'LatencyP99', window: '1m', minSamples: 10 };
    it('flags a pod that got 10× slower than its normal', () => {
      const s = detectLatencyP99(pod({ samples: [...history(30, 10), ...recent(20, 100)] }), relRule, NOW);
      assert.ok(s);
      assert.match(s.message, /own baseline 10\.0 ms/);
    });
    it('does not flag a slow-but-normal service (its baseline is slow too)', () => {
      assert.equal(detectLatencyP99(pod({ samples: [...history(30, 800), ...recent(20, 900)] }), relRule, NOW), null);
    });
    it('an absolute limit alone flags when there is no history', () => {
      const rule: DetectRule = { ...relRule, latency: '200ms' };
      assert.ok(detectLatencyP99(pod({ samples: recent(20, 300) }), rule, NOW));
      assert.equal(detectLatencyP99(pod({ samples: recent(20, 150) }), rule, NOW), null);
    });
    it('with both, a pod above the limit but within its own normal is not flagged', () => {
      const rule: DetectRule = { ...relRule, latency: '200ms' };
      assert.equal(detectLatencyP99(pod({ samples: [...history(30, 250), ...recent(20, 300)] }), rule, NOW), null);
    });
    it('needs minSamples in the window', () => {
      assert.equal(detectLatencyP99(pod({ samples: [...history(30, 10), ...recent(5, 1000)] }), relRule, NOW), null);
    });

    it('timed-out probes are not latencies: a hang is left to the failure rules', () => {
      const rule: DetectRule = { ...relRule, latency: '200ms' };
      const timedOut = recent(20, 1000).map((s) => ({ ...s, ok: false, errorClass: 'Timeout' }));
      assert.equal(detectLatencyP99(pod({ samples: [...history(30, 10), ...timedOut] }), rule, NOW), null);
      const slowButAnswered = recent(20, 900);
      assert.ok(detectLatencyP99(pod({ samples: [...history(30, 10), ...slowButAnswered] }), rule, NOW));
    });
    it('EWMA weights recent history more', () => {
      const b = ewmaBaseline([...history(50, 10), ...history(50, 50).map((s) => ({ ...s, t: s.t + 50_000 }))]);
      assert.ok(b !== undefined && b > 45 && b < 50);
    });
  });

  describe('lifecycle: Restarts, CrashLoop, OOMKilled', () => {
    const ev = (kind: 'Restart' | 'OOMKilled' | 'CrashLoopBackOff', agoMs: number) => ({ t: NOW - agoMs, kind });
    it('Restarts counts only restarts inside the window', () => {
      const p = pod({ events: [ev('Restart', 3_600_000), ev('Restart', 1000), ev('Restart', 2000)] });
      assert.equal(detectLifecycle(p, { type: 'Restarts', threshold: 3, window: '10m' }, NOW), null);
      assert.ok(detectLifecycle(p, { type: 'Restarts', threshold: 2, window: '10m' }, NOW));
    });
    it('one OOM kill is enough by default', () => {
      const s = detectLifecycle(pod({ events: [ev('OOMKilled', 500)] }), { type: 'OOMKilled' }, NOW);
      assert.equal(s?.reason, 'OOMKilled');
    });
    it('CrashLoop fires on CrashLoopBackOff, not on plain restarts', () => {
      assert.equal(detectLifecycle(pod({ events: [ev('Restart', 10)] }), { type: 'CrashLoop' }, NOW), null);
      assert.ok(detectLifecycle(pod({ events: [ev('CrashLoopBackOff', 10)] }), { type: 'CrashLoop' }, NOW));
    });
  });

  describe('threat: identity rejections', () => {
    it('fires on repeated rejections in the window and marks the signal a threat', () => {
      const s = detectIdentityRejections(pod({ identityRejections: [1, 2, 3, 4, 5].map((i) => NOW - i * 1000) }), NOW);
      assert.equal(s?.threat, true);
      assert.equal(detectIdentityRejections(pod({ identityRejections: [NOW - 1000, NOW - 2000] }), NOW), null);
    });
  });

  describe('threat: process anomaly against siblings', () => {
    const withStats = (uid: string, processes: number, openFds: number, threads: number): PodHealth =>
      pod({ uid, name: uid, stats: [{ t: NOW, processes, openFds, threads }] });
    const siblings = [
      withStats('a', 3, 40, 20),
      withStats('b', 3, 42, 21),
      withStats('c', 4, 39, 19),
      withStats('d', 3, 41, 20),
    ];
    it('flags a fork or fd explosion far outside the group', () => {
      const s = detectProcessAnomaly(withStats('x', 60, 40, 20), siblings, NOW);
      assert.ok(s);
      assert.match(s.message, /processes 60/);
      assert.ok(detectProcessAnomaly(withStats('y', 3, 5000, 20), siblings, NOW));
    });
    it('leaves ordinary variation alone', () => {
      assert.equal(detectProcessAnomaly(withStats('x', 5, 60, 30), siblings, NOW), null);
    });
    it('needs enough siblings to judge', () => {
      assert.equal(detectProcessAnomaly(withStats('x', 60, 40, 20), siblings.slice(0, 2), NOW), null);
    });
  });

  it('detectSignals runs the policy rules plus the always-on threat detectors', () => {
    const policy = {
      spec: { detect: { rules: [{ type: 'ConsecutiveFailures', threshold: 2 }] } },
    } as unknown as HealthPolicy;
    const p = pod({ samples: samples('.xx'), identityRejections: [1, 2, 3, 4, 5].map((i) => NOW - i) });
    const types = detectSignals(p, policy, [], NOW).map((s) => s.type);
    assert.deepEqual(types, ['ConsecutiveFailures', 'IdentityRejected']);
  });
});
