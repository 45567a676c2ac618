import { strict as assert } from 'node:assert';
import type { HealthPolicy } from '../core/api/index.js';
import { silentLogger } from '../core/logger.js';
import { HealthStore } from '../observe/index.js';
import type { Verdict } from './decide.js';
import { Evaluator } from './evaluator.js';
import type { PodFacts } from './from-observe.js';

const policy: HealthPolicy = {
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name: 'api' },
  spec: {
    match: {},
    probe: { http: { path: '/healthz', port: 8080 } },
    detect: { rules: [{ type: 'ConsecutiveFailures', threshold: 3 }] },
    action: { type: 'Quarantine' },
  },
};

describe('Evaluator', () => {
  let clock: number;
  let store: HealthStore;
  let verdicts: Verdict[];
  let evaluator: Evaluator;
  const seq = new Map<string, number>();
  const facts = new Map<string, PodFacts>();

  const report = (name: string, ok: boolean[], node = `node-${name}`) => {
    const uid = `uid-${name}`;
    facts.set(uid, {
      labels: { app: 'api' },
      node,
      owner: { kind: 'ReplicaSet', name: 'api-rs', uid: 'rs' },
      image: `img-${name}`,
      injectedPolicy: 'api',
    });
    const samples = ok.map((o) => {
      const s = (seq.get(uid) ?? 0) + 1;
      seq.set(uid, s);
      clock += 1000;
      return { seq: s, time: new Date(clock).toISOString(), probe: { type: 'http' as const, ok: o, latencyMs: 3 } };
    });
    store.addReport({
      pod: { namespace: 'shop', name, uid },
      sidecar: { version: '1', instance: `i-${name}` },
      dropped: 0,
      samples,
    });
    evaluator.notify(uid);
  };

  beforeEach(() => {
    clock = Date.parse('2026-11-26T00:00:00Z');
    seq.clear();
    facts.clear();
    store = new HealthStore({ now: () => clock });
    verdicts = [];
    evaluator = new Evaluator({
      health: (uid) => store.get(uid),
      peers: (ns) => store.query({ namespace: ns }),
      facts: async (p) => facts.get(p.uid),
      policyFor: (_h, f) => (f.injectedPolicy === 'api' ? policy : undefined),
      onVerdict: async (v) => {
        verdicts.push(v);
      },
      logger: silentLogger(),
      groupWindowMs: 20,
      now: () => clock,
    });
  });
  afterEach(() => evaluator.stop());

  it('one failing pod → one verdict for that pod', async () => {
    report('a', [true, false, false, false]);
    await evaluator.idle();
    assert.equal(verdicts.length, 1);
    assert.deepEqual(
      verdicts[0]!.actions.map((a) => [a.pod.name, a.action]),
      [['a', 'Quarantine']],
    );
    assert.equal(verdicts[0]!.actions[0]!.pod.owner?.name, 'api-rs');
  });

  it('a pod that keeps failing is decided once, not once per report', async () => {
    report('a', [false, false, false]);
    await evaluator.idle();
    report('a', [false, false]);
    report('a', [false]);
    await evaluator.idle();
    assert.equal(verdicts.length, 1);
  });

  it('healthy and recovering pods produce no verdict', async () => {
    report('a', [true, true, true]);
    report('b', [false, false, true]);
    await evaluator.idle();
    assert.equal(verdicts.length, 0);
  });

  it('pods tripping within the grouping window on one node become one incident', async () => {
    for (const n of ['a', 'b', 'c', 'd']) report(n, [false, false, false], 'node-1');
    await evaluator.idle();
    assert.equal(verdicts.length, 1);
    assert.equal(verdicts[0]!.incident.key, 'node/node-1');
    assert.equal(verdicts[0]!.actions.length, 4);
  });

  it('pods without a policy are ignored', async () => {
    store.addReport({
      pod: { namespace: 'x', name: 'n', uid: 'u' },
      sidecar: { version: '1', instance: 'i' },
      dropped: 0,
      samples: [1, 2, 3, 4].map((seq) => ({
        seq,
        time: new Date(clock + seq).toISOString(),
        probe: { type: 'http' as const, ok: false, latencyMs: 1 },
      })),
    });
    facts.set('u', { labels: {} });
    evaluator.notify('u');
    await evaluator.idle();
    assert.equal(verdicts.length, 0);
  });
});
