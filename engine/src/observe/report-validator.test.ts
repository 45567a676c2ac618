import { strict as assert } from 'node:assert';
import { createReportValidator } from './report-validator.js';

describe('report validator bounds', () => {
  const validate = createReportValidator();
  const report = (seq: number, dropped = 0) => ({
    apiVersion: 'bulkhead.dev/v1alpha1',
    kind: 'HealthReport',
    pod: { namespace: 'shop', name: 'web-1', uid: 'u-1' },
    sidecar: { version: '0.1.0', instance: 'i', startedAt: '2026-12-02T00:00:00Z' },
    dropped,
    samples: [{ seq, time: '2026-12-02T00:00:01Z', probe: { type: 'http', ok: true, latencyMs: 1 } }],
  });

  it('refuses a seq or dropped count past 2^53 (found by the fuzz: the gap count overflowed to Infinity, a 500)', () => {
    assert.equal(validate(report(Number.MAX_SAFE_INTEGER)).ok, true);
    const seq = validate(report(1e308));
    assert.equal(seq.ok, false);
    assert.deepEqual(!seq.ok && seq.problems.map((p) => p.pointer), ['/samples/0/seq']);
    assert.equal(validate(report(1, 1e308)).ok, false);
  });
});
