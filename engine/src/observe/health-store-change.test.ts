import { strict as assert } from 'node:assert';
import { HealthStore } from './health-store.js';

describe('HealthStore change notifications', () => {
  it('calls onChange for new samples and events, not for duplicates', () => {
    const seen: string[] = [];
    const store = new HealthStore({ onChange: (uid) => seen.push(uid) });
    const pod = { namespace: 'ns', name: 'p', uid: 'u1' };
    const report = {
      pod,
      sidecar: { version: '1', instance: 'i' },
      dropped: 0,
      samples: [{ seq: 1, time: new Date().toISOString(), probe: { type: 'http' as const, ok: true, latencyMs: 1 } }],
    };
    store.addReport(report);
    store.addReport(report); // a retried batch: nothing new
    store.addEvent(pod, { time: new Date().toISOString(), type: 'Restarted' });
    assert.deepEqual(seen, ['u1', 'u1']);
  });
});
