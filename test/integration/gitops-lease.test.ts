// LeaderElector against the real apiserver, as the engine ServiceAccount (deploy/rbac's Role):
// exactly one leader at a time, a clean release hands over at the next retry, and a leader
// that cannot renew steps down before its Lease can be taken.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { LeaderElector } from '../../engine/src/core/kube/leader-election.js';
import { silentLogger } from '../../engine/src/core/logger.js';
import { eventually, newNamespace } from '../harness/index.js';
import { installEngineRbac } from '../harness/engine-process.js';
import { adminClient } from './support/gitops.js';

interface Candidate {
  id: string;
  elector: LeaderElector;
  stop: AbortController;
  done: Promise<void>;
  terms: { from: number; to?: number }[];
  signals: AbortSignal[];
}

describe('Lease leader election (in process, engine RBAC)', function () {
  this.timeout(60_000);
  let ns: string;
  let client: KubeClient;
  const candidates: Candidate[] = [];

  const candidate = (id: string): Candidate => {
    const elector = new LeaderElector(client, {
      namespace: ns,
      name: 'bulkhead-engine',
      identity: id,
      leaseDurationMs: 2000,
      renewDeadlineMs: 1500,
      retryPeriodMs: 250,
      logger: silentLogger(),
    });
    const stop = new AbortController();
    const c: Candidate = { id, elector, stop, terms: [], signals: [], done: Promise.resolve() };
    c.done = elector.run(stop.signal, {
      onStartedLeading: (signal) => {
        c.terms.push({ from: Date.now() });
        c.signals.push(signal);
      },
      onStoppedLeading: () => {
        const t = c.terms.at(-1);
        if (t) t.to = Date.now();
      },
    });
    candidates.push(c);
    return c;
  };

  before(async () => {
    ns = await newNamespace('lease');
    const { kubeconfigPath } = await installEngineRbac(ns);
    const kc = new KubeConfig();
    kc.loadFromString(await readFile(kubeconfigPath, 'utf8'));
    client = new KubeClient(kc);
  });
  after(async () => {
    for (const c of candidates) c.stop.abort();
    await Promise.all(candidates.map((c) => c.done));
    client.close();
  });

  it('one leader among three; a released Lease passes on at the next retry; terms never overlap', async () => {
    const cs = ['a', 'b', 'c'].map(candidate);
    const leader = await eventually(
      () => {
        const leaders = cs.filter((c) => c.elector.isLeader());
        assert.equal(leaders.length, 1);
        return leaders[0]!;
      },
      { what: 'one leader' },
    );
    const lease = await client.request<{ spec: { holderIdentity: string; renewTime: string } }>({
      method: 'GET',
      path: `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/bulkhead-engine`,
    });
    assert.equal(lease.spec.holderIdentity, leader.id);
    // Followers name the holder they read from the Lease (what their 421 answers point to).
    await eventually(
      () => {
        for (const c of cs) assert.equal(c.elector.holder(), leader.id, `${c.id} names the leader`);
      },
      { what: 'every candidate names the leader' },
    );
    assert.match(lease.spec.renewTime, /\.\d{6}Z$/, 'MicroTime with six fractional digits');

    const t0 = Date.now();
    leader.stop.abort();
    await leader.done;
    const next = await eventually(
      () => {
        const leaders = cs.filter((c) => c.elector.isLeader());
        assert.equal(leaders.length, 1);
        return leaders[0]!;
      },
      { what: 'successor' },
    );
    assert.notEqual(next.id, leader.id);
    assert.ok(Date.now() - t0 < 2000, `released Lease taken in ${Date.now() - t0} ms, before it could have expired`);

    const terms = cs
      .flatMap((c) => c.terms.map((t) => ({ id: c.id, from: t.from, to: t.to ?? Infinity })))
      .sort((x, y) => x.from - y.from);
    for (let i = 1; i < terms.length; i++)
      assert.ok(terms[i]!.from >= terms[i - 1]!.to, `terms overlap: ${JSON.stringify(terms)}`);
  });

  it('a leader that can no longer renew steps down: its signal aborts, so it stops writing', async () => {
    const leader = await eventually(
      () => {
        const l = candidates.find((c) => c.elector.isLeader());
        assert.ok(l);
        return l;
      },
      { what: 'a leader' },
    );
    const signal = leader.signals.at(-1)!;
    assert.equal(signal.aborted, false);
    // Take the engine's Lease permissions away: renewals now fail with 403.
    const admin = adminClient();
    try {
      await admin.request({
        method: 'DELETE',
        path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings/bulkhead-engine`,
      });
    } finally {
      admin.close();
    }
    await eventually(
      () => {
        assert.equal(leader.elector.isLeader(), false);
        assert.equal(signal.aborted, true);
      },
      { timeoutMs: 10_000, what: 'leader stepped down' },
    );
    assert.ok(
      candidates.every((c) => !c.elector.isLeader()),
      'nobody leads without the permission to renew',
    );
  });
});
