// Records and branch protection, against a real bare repository whose pre-receive hook
// protects main, the real control plane, and two engine pipelines (a leader and a follower):
// the refused push shows on the Quarantine and on the PolicySource as a RecordsPushed
// condition that says to set spec.recordsBranch; once it is set (here after a leader
// failover), the waiting record is pushed to that branch, once, and nothing reaches main.
import { strict as assert } from 'node:assert';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { recordsSourceOf, type RecordsTarget } from '../../engine/src/audit/index.js';
import { RECORDS_PUSHED } from '../../engine/src/audit/push-conditions.js';
import { recordUid } from '../../engine/src/audit/record-document.js';
import { findCondition, type HealthPolicy, type Quarantine } from '../../engine/src/core/api/index.js';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { EventRecorder } from '../../engine/src/core/kube/events.js';
import { ResourceResolver } from '../../engine/src/core/kube/resources.js';
import { silentLogger } from '../../engine/src/core/logger.js';
import { HealthStore, TokenAuthenticator } from '../../engine/src/observe/index.js';
import { tokenReviewer } from '../../engine/src/observe/create-observe.js';
import { listQuarantines } from '../../engine/src/quarantine/index.js';
import { startQuarantinePipeline, type QuarantinePipeline } from '../../engine/src/runtime/quarantine-pipeline.js';
import { createTestRepo, git, HERMETIC_GIT_ENV, type TestRepo } from '../harness/git-repo.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import { createSource, getSource, PS } from './support/gitops.js';
import { failingSignal, healthOf, runDeployment } from './support/quarantine-fixtures.js';

const policy: HealthPolicy = {
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name: 'records-branch' },
  spec: {
    match: {},
    probe: { http: { path: '/healthz', port: 8080 } },
    detect: { rules: [{ type: 'ConsecutiveFailures' }] },
    action: { type: 'Quarantine' },
  },
};

/** A protected main, as GitLab and GitHub hooks refuse it; every attempt is logged. */
const hook = (log: string) => `#!/bin/sh
while read old new ref; do
  echo "$ref" >> '${log}'
  if [ "$ref" = refs/heads/main ]; then
    echo "GL-HOOK-ERR: You are not allowed to push code to protected branches on this project." >&2
    exit 1
  fi
done
exit 0
`;

describe('records and branch protection', () => {
  let repo: TestRepo;
  let client: KubeClient;
  let sourceName: string;
  const pipelines: QuarantinePipeline[] = [];

  before(async () => {
    client = new KubeClient(getCluster().kubeConfig());
  });

  // The engine's rule for its records target (the synced PolicySource: its recordsBranch,
  // else its branch), over this test's PolicySource only: other files' sources may exist.
  const target = (cacheDir: string) => async (): Promise<RecordsTarget | undefined> => {
    const s = recordsSourceOf([await getSource(client, sourceName)]);
    return (
      s && {
        url: s.url,
        branch: s.branch,
        ...(s.baseBranch ? { baseBranch: s.baseBranch } : {}),
        source: s.source,
        cacheDir,
      }
    );
  };
  /** One engine replica's quarantine pipeline, as start-data-plane wires it. */
  const startReplica = (name: string, isLeader: () => boolean, cluster: string): QuarantinePipeline => {
    const kc = getCluster().kubeConfig();
    const logger = silentLogger();
    const p = startQuarantinePipeline({
      client,
      resolver: new ResourceResolver(client),
      events: new EventRecorder(client, { component: 'bulkhead', instance: name, logger }),
      logger,
      registry: new Registry(),
      store: new HealthStore(),
      // The verdict API is not used here; a real authenticator against the apiserver anyway.
      authenticator: new TokenAuthenticator({ review: tokenReviewer(kc), audience: 'bulkhead' }),
      policy: () => policy,
      isLeader,
      cluster,
      engineNamespace: 'bulkhead-system',
      records: target(join(repo.bareDir, '..', `cache-${name}`)),
      env: { path: HERMETIC_GIT_ENV.PATH!, home: HERMETIC_GIT_ENV.HOME! },
      flushIntervalMs: 200,
      releaseIntervalMs: 200,
      groupWindowMs: 20,
    });
    pipelines.push(p);
    return p;
  };

  afterEach(async () => {
    for (const p of pipelines.splice(0)) await p.stop();
    await client.request({ method: 'DELETE', path: `${PS}/${sourceName}` }).catch(() => {});
    await repo.remove();
  });

  it('a refused push says to set recordsBranch on the Quarantine and the PolicySource; once set, the record is pushed there once', async () => {
    const kc = getCluster().kubeConfig();
    const ns = await newNamespace('recbr');
    repo = await createTestRepo('bh-records-branch-');
    const mainTip = await repo.commit({ 'policies/README.md': 'policies live here\n' }, 'initial');
    const pushLog = join(repo.bareDir, '..', 'pushes.log');
    await writeFile(join(repo.bareDir, 'hooks', 'pre-receive'), hook(pushLog));
    await chmod(join(repo.bareDir, 'hooks', 'pre-receive'), 0o755);
    sourceName = `recbr-${ns}`;
    await createSource(client, sourceName, { url: repo.url, ref: { branch: 'main' } });

    const leader = { a: true };
    const cluster = `c${Math.random().toString(36).slice(2, 8)}`;
    const replica = (name: 'a' | 'b') => startReplica(name, () => (name === 'a' ? leader.a : !leader.a), cluster);
    const a = replica('a');
    const b = replica('b');

    // Both replicas see the failing pod (as both get its reports); only the leader acts.
    const pods = await runDeployment(kc, ns, 'api', 2);
    const victim = healthOf(pods[0]!);
    for (const p of [a, b]) p.evaluator.submit(victim, [failingSignal(victim)], policy);

    const quarantine = async (): Promise<Quarantine> => {
      const qs = await listQuarantines(client, new ResourceResolver(client), ns);
      assert.equal(qs.length, 1, `${qs.length} Quarantines`);
      return qs[0]!;
    };
    const refused = await eventually(
      async () => {
        const q = await quarantine();
        const c = findCondition(q.status?.conditions, RECORDS_PUSHED);
        assert.equal(c?.status, 'False', JSON.stringify(q.status));
        return { q, c: c! };
      },
      { what: 'the Quarantine says the push was refused', timeoutMs: 30_000 },
    );
    assert.equal(refused.q.status?.audit?.state, 'Pending');
    assert.equal(refused.c.reason, 'RecordsPushRefused');
    assert.match(refused.c.message, new RegExp(`set spec.recordsBranch on PolicySource ${sourceName}`));
    assert.match(refused.c.message, /not allowed to push code to protected branches/, 'the remote says why');
    const sourceCondition = await eventually(
      async () => {
        const c = findCondition((await getSource(client, sourceName)).status?.conditions, RECORDS_PUSHED);
        assert.equal(c?.status, 'False');
        return c!;
      },
      { what: 'the PolicySource says the push was refused' },
    );
    assert.equal(sourceCondition.reason, 'RecordsPushRefused');
    assert.match(sourceCondition.message, /recordsBranch/);
    assert.equal(await git(repo.bareDir, 'rev-parse', 'main'), mainTip, 'nothing reached main');
    // Only the leader tried: the follower never even cloned the records repository.
    assert.ok((await readFile(pushLog, 'utf8')).includes('refs/heads/main'));
    await assert.rejects(stat(join(repo.bareDir, '..', 'cache-b', 'records')), 'the follower has no records clone');

    // Failover while the record waits, then the fix the condition asks for.
    leader.a = false;
    await client.request({
      method: 'PATCH',
      path: `${PS}/${sourceName}`,
      contentType: 'application/merge-patch+json',
      body: { spec: { recordsBranch: 'bulkhead-records' } },
    });
    const committed = await eventually(
      async () => {
        const q = await quarantine();
        assert.equal(q.status?.audit?.state, 'Committed', JSON.stringify(q.status));
        return q;
      },
      { what: 'the waiting record is pushed to the records branch', timeoutMs: 30_000 },
    );
    assert.equal(findCondition(committed.status?.conditions, RECORDS_PUSHED)?.status, 'True');
    await eventually(
      async () => {
        const c = findCondition((await getSource(client, sourceName)).status?.conditions, RECORDS_PUSHED);
        assert.equal(c?.status, 'True', c?.message);
        assert.match(c!.message, /bulkhead-records/);
      },
      { what: 'the PolicySource says records are pushed' },
    );
    // The new branch starts at main and holds exactly this one record, in one commit.
    assert.equal(await git(repo.bareDir, 'rev-parse', 'bulkhead-records~1'), mainTip);
    assert.equal(await git(repo.bareDir, 'rev-parse', 'bulkhead-records'), committed.status?.audit?.commit);
    const files = (await git(repo.bareDir, 'ls-tree', '-r', '--name-only', 'bulkhead-records', '--', 'records'))
      .split('\n')
      .filter(Boolean);
    assert.deepEqual(files, [committed.spec.recordPath]);
    const record = await git(repo.bareDir, 'show', `bulkhead-records:${committed.spec.recordPath}`);
    assert.equal(recordUid(record), committed.metadata.uid);
    assert.equal(await git(repo.bareDir, 'rev-parse', 'main'), mainTip, 'main is still untouched');
    // Written under the audit's own field manager, so the sync's summarizer never overwrites it.
    const meta = (await getSource(client, sourceName)).metadata as { managedFields?: { manager: string }[] };
    const managers = meta.managedFields?.map((m) => m.manager) ?? [];
    assert.ok(managers.includes('bulkhead-audit'), managers.join(', '));
  });

  it('records committed to the old branch are not taken for released when recordsBranch moves to a branch without them', async () => {
    const kc = getCluster().kubeConfig();
    const ns = await newNamespace('recmv');
    repo = await createTestRepo('bh-records-move-');
    await repo.commit({ 'policies/README.md': 'policies\n' }, 'initial');
    // A records branch made before the quarantine: it will not have the record.
    await git(repo.workDir, 'push', '--quiet', 'origin', 'HEAD:refs/heads/older-records');
    sourceName = `recmv-${ns}`;
    await createSource(client, sourceName, { url: repo.url, ref: { branch: 'main' } });
    const engine = startReplica('a', () => true, `c${Math.random().toString(36).slice(2, 8)}`);
    const victim = healthOf((await runDeployment(kc, ns, 'api', 2))[0]!);
    engine.evaluator.submit(victim, [failingSignal(victim)], policy);
    const resolver = new ResourceResolver(client);
    await eventually(
      async () => {
        const [q] = await listQuarantines(client, resolver, ns);
        assert.equal(q?.status?.audit?.state, 'Committed');
      },
      { what: 'the record committed to main', timeoutMs: 30_000 },
    );
    await client.request({
      method: 'PATCH',
      path: `${PS}/${sourceName}`,
      contentType: 'application/merge-patch+json',
      body: { spec: { recordsBranch: 'older-records' } },
    });
    // The engine reads releases from the new branch (its clone appears), several times over.
    const clones = join(repo.bareDir, '..', 'cache-a', 'records');
    await eventually(async () => assert.equal((await readdir(clones)).length, 2), {
      what: 'a clone of the new branch',
    });
    await new Promise((ok) => setTimeout(ok, 2000)); // proving something does NOT happen needs a wait
    const [q] = await listQuarantines(client, resolver, ns);
    assert.equal(q?.status?.phase, 'Isolated', 'still held: its record was never on older-records');
    const pod = await kc.makeApiClient(CoreV1Api).readNamespacedPod({ name: victim.name, namespace: ns });
    assert.equal(pod.metadata?.labels?.['bulkhead.dev/quarantined'], 'true');
  });
});
