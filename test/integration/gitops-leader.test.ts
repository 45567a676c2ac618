// Two engine processes under the engine's RBAC: one holds the Lease and writes; the other
// serves read-only endpoints and writes nothing. SIGKILL the leader: the other takes over
// within 15 s and applies a new commit, without re-writing what is already in force.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import type { KubeClient } from '../../engine/src/core/kube/client.js';
import { eventually, newNamespace } from '../harness/index.js';
import { installEngineRbac, startEngineProcess, type EngineProcess } from '../harness/engine-process.js';
import { createTestRepo, type TestRepo } from '../harness/git-repo.js';
import {
  adminClient,
  createSource,
  deleteQuietly,
  getPolicy,
  getSource,
  HP,
  metricValue,
  policyYaml,
  PS,
  ready,
} from './support/gitops.js';

const writesOf = async (e: EngineProcess): Promise<number> => {
  let n = 0;
  for (const verb of ['PATCH', 'DELETE', 'POST', 'PUT'])
    n += await metricValue(e.url, 'bulkhead_kube_request_duration_seconds_count', { verb });
  return n;
};
/** Writes other than the Lease's own PUTs: what "only the leader writes" is about. */
const objectWritesOf = async (e: EngineProcess): Promise<number> => {
  let n = 0;
  for (const verb of ['PATCH', 'DELETE'])
    n += await metricValue(e.url, 'bulkhead_kube_request_duration_seconds_count', { verb });
  return n;
};

describe('GitOps leader election (two engine processes, one Lease)', function () {
  this.timeout(120_000);
  let ns: string;
  let repo: TestRepo;
  let admin: KubeClient;
  const engines: EngineProcess[] = [];
  let source: string;
  const name = (p: string): string => `${ns}-${p}`;

  before(async () => {
    admin = adminClient();
    ns = await newNamespace('leader');
    const { kubeconfigPath } = await installEngineRbac(ns);
    repo = await createTestRepo();
    source = name('src');
    await repo.commit({
      'policies/a.yaml': policyYaml(name('a'), ns, 3),
      'policies/b.yaml': policyYaml(name('b'), ns, 3),
    });
    await createSource(admin, source, { url: repo.url, ref: { branch: 'main' }, interval: '1s' });
    // Default lease timings (8 s lease, 5 s renew deadline, 1 s retry): the bound is theirs.
    for (const id of ['one', 'two'])
      engines.push(await startEngineProcess({ name: `${ns}-${id}`, kubeconfigPath, namespace: ns }));
  });
  after(async () => {
    for (const e of engines) await e.stop();
    await deleteQuietly(admin, `${PS}/${source}`);
    for (const p of ['a', 'b', 'c']) await deleteQuietly(admin, `${HP}/${name(p)}`);
    await repo?.remove();
    admin.close();
  });

  it('elects one leader; only it writes, the follower serves read-only endpoints', async () => {
    const head = await repo.head();
    await eventually(async () => assert.equal((await getSource(admin, source)).status?.lastAppliedRevision, head), {
      timeoutMs: 30_000,
      what: 'applied by the leader',
    });
    const lease = await admin.request<{ spec: { holderIdentity: string } }>({
      method: 'GET',
      path: `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/bulkhead-engine`,
    });
    const leader = engines.find((e) => e.name === lease.spec.holderIdentity);
    const follower = engines.find((e) => e.name !== lease.spec.holderIdentity)!;
    assert.ok(leader, `lease held by ${lease.spec.holderIdentity}`);
    assert.equal(await metricValue(leader.url, 'bulkhead_leader'), 1);
    assert.equal(await metricValue(follower.url, 'bulkhead_leader'), 0);
    // Which build runs: the package's version in /metrics and in the first log line (issue 19).
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    for (const e of engines) {
      assert.equal(await metricValue(e.url, 'bulkhead_build_info', { version, node: process.version }), 1);
      assert.ok(
        (await e.logLines()).some((l) => l.msg === 'bulkhead engine starting' && l.version === version),
        `${e.name} logs its version at startup`,
      );
    }
    for (const path of ['/healthz', '/readyz', '/metrics'])
      assert.equal((await fetch(`${follower.url}${path}`)).status, 200, `follower ${path}`);
    assert.ok((await objectWritesOf(leader)) > 0);
    assert.equal(await objectWritesOf(follower), 0, 'the follower wrote nothing');
    assert.equal(
      await metricValue(follower.url, 'bulkhead_kube_request_duration_seconds_count', { verb: 'POST' }),
      0,
      'no Events, no creates',
    );
  });

  it('SIGKILL the leader → the follower takes over within 15 s and applies a new commit, with no burst of writes', async () => {
    const lease = await admin.request<{ spec: { holderIdentity: string } }>({
      method: 'GET',
      path: `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/bulkhead-engine`,
    });
    const leader = engines.find((e) => e.name === lease.spec.holderIdentity)!;
    const follower = engines.find((e) => e !== leader)!;
    const followerWritesBefore = await writesOf(follower);
    const before = await getPolicy(admin, name('b'));

    leader.kill('SIGKILL');
    const t0 = Date.now();
    await leader.exited;
    const head = await repo.commit({ 'policies/c.yaml': policyYaml(name('c'), ns, 4) });
    await eventually(
      async () => {
        const s = await getSource(admin, source);
        assert.equal(s.status?.lastAppliedRevision, head);
        assert.equal(ready(s).status, 'True');
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'new commit applied by the new leader within 15 s of SIGKILL' },
    );
    const took = Date.now() - t0;
    assert.ok(took <= 15_000, `takeover + apply took ${took} ms`);
    assert.ok(await getPolicy(admin, name('c')));
    const l2 = await admin.request<{ spec: { holderIdentity: string; leaseTransitions: number } }>({
      method: 'GET',
      path: `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/bulkhead-engine`,
    });
    assert.equal(l2.spec.holderIdentity, follower.name);
    assert.ok(l2.spec.leaseTransitions >= 1);
    // The new leader re-applies nothing that is already in force: b was not written again.
    assert.equal((await getPolicy(admin, name('b')))?.metadata.resourceVersion, before?.metadata.resourceVersion);
    const patches = await metricValue(follower.url, 'bulkhead_kube_request_duration_seconds_count', { verb: 'PATCH' });
    assert.ok(patches <= 3, `new leader made ${patches} PATCHes (expected: c, and the status)`);
    assert.ok((await writesOf(follower)) - followerWritesBefore <= 12, 'no burst of writes');
    process.stderr.write(`      takeover + apply of a new commit: ${took} ms after SIGKILL\n`);
  });
});
