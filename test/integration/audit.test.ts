// The git audit log, against a real bare repository and the real control plane: records are
// committed (batched, exactly once, never force-pushed), survive an unreachable remote and a
// concurrent human commit, and removing a record (or its TTL) releases the pod.
import { strict as assert } from 'node:assert';
import { chmod, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Watch, type V1Pod } from '@kubernetes/client-node';
import { decide } from '../../engine/src/analytics/decide.js';
import { groupIncidents } from '../../engine/src/analytics/grouping.js';
import { flushOutbox, releaseFromGit, type OutboxDeps } from '../../engine/src/audit/outbox.js';
import { recordUid } from '../../engine/src/audit/record-document.js';
import { RecordsRepo } from '../../engine/src/audit/records-repo.js';
import type { HealthPolicy } from '../../engine/src/core/api/index.js';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { EventRecorder } from '../../engine/src/core/kube/events.js';
import { ResourceResolver } from '../../engine/src/core/kube/resources.js';
import { silentLogger } from '../../engine/src/core/logger.js';
import { executeVerdict, listQuarantines, type QuarantineDeps } from '../../engine/src/quarantine/index.js';
import { createTestRepo, git, HERMETIC_GIT_ENV, type TestRepo } from '../harness/git-repo.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import { failingSignal, healthOf, runDeployment } from './support/quarantine-fixtures.js';

const policy = (name: string, action: Partial<HealthPolicy['spec']['action']> = {}): HealthPolicy => ({
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name },
  spec: {
    match: {},
    probe: { http: { path: '/healthz', port: 8080 } },
    detect: { rules: [{ type: 'ConsecutiveFailures' }] },
    action: { type: 'Quarantine', ...action },
  },
});

const commitCount = async (repo: TestRepo): Promise<number> =>
  Number(await git(repo.bareDir, 'rev-list', '--count', 'main'));
const showAtMain = (repo: TestRepo, path: string): Promise<string> => git(repo.bareDir, 'show', `main:${path}`);
/** A human's commit, made from their own clone after catching up with main. */
async function humanCommit(repo: TestRepo, files: Record<string, string | null>, message: string): Promise<void> {
  await git(repo.workDir, 'pull', '--quiet', '--rebase', 'origin', 'main');
  await repo.commit(files, message);
}

describe('audit log in git', () => {
  let repo: TestRepo;
  let qdeps: QuarantineDeps;
  let odeps: OutboxDeps;
  let cacheDir: string;

  beforeEach(async () => {
    repo = await createTestRepo('bh-audit-');
    await repo.commit({ 'policies/README.md': 'policies live here\n' }, 'initial');
    cacheDir = join(repo.bareDir, '..', 'engine-cache');
    const kc = getCluster().kubeConfig();
    const client = new KubeClient(kc);
    const logger = silentLogger();
    const resolver = new ResourceResolver(client);
    const events = new EventRecorder(client, { component: 'bulkhead', instance: 'test', logger });
    // Each test works in its own namespace and cluster name, so outboxes never see each other.
    const cluster = `c${Math.random().toString(36).slice(2, 8)}`;
    qdeps = { client, resolver, events, logger, now: () => new Date(), cluster, protectedNamespaces: new Set() };
    odeps = {
      client,
      resolver,
      events,
      logger,
      cluster,
      now: () => new Date(),
      repo: new RecordsRepo({
        url: repo.url,
        branch: 'main',
        cacheDir,
        env: { path: HERMETIC_GIT_ENV.PATH!, home: HERMETIC_GIT_ENV.HOME! },
        author: { name: 'bulkhead', email: 'bulkhead@noreply.invalid' },
        logger,
      }),
    };
  });
  afterEach(() => repo.remove());

  /** Flushes only this test's records (the cluster is shared by every test file). */
  const flush = async () => {
    const mine = await listQuarantines(qdeps.client, qdeps.resolver);
    assert.ok(mine.length > 0);
    return flushOutbox(odeps);
  };

  /** Every label set the pod is seen with from now on (a watch), until stop(). */
  async function watchPodLabels(ns: string, name: string) {
    const labels: Record<string, string>[] = [];
    const req = await new Watch(getCluster().kubeConfig()).watch(
      `/api/v1/namespaces/${ns}/pods`,
      { fieldSelector: `metadata.name=${name}` },
      (_type: string, obj: V1Pod) => labels.push(obj.metadata?.labels ?? {}),
      () => {},
    );
    return { labels, stop: () => req.abort() };
  }

  async function quarantineOne(prefix: string, action: Partial<HealthPolicy['spec']['action']> = {}) {
    const kc = getCluster().kubeConfig();
    const ns = await newNamespace(prefix);
    const pods = await runDeployment(kc, ns, 'api', 2);
    const p = healthOf(pods[0]!);
    const [incident] = groupIncidents([{ pod: p, signals: [failingSignal(p)] }]);
    const result = await executeVerdict(
      qdeps,
      decide(incident!, policy(`${prefix}-policy`, action), []),
      action.releaseAfter,
    );
    assert.equal(result.taken[0]!.outcome, 'done');
    const [q] = await listQuarantines(qdeps.client, qdeps.resolver, ns);
    return { ns, pod: p, q: q! };
  }

  it('commits a record naming the pod, author bulkhead, and marks the Quarantine Committed', async () => {
    const { ns, pod, q } = await quarantineOne('au1');
    const before = await commitCount(repo);
    const r = await flush();
    assert.ok(r.committed >= 1 && r.commit);
    assert.equal(await commitCount(repo), before + 1);
    const record = await showAtMain(repo, q.spec.recordPath!);
    assert.equal(recordUid(record), q.metadata.uid);
    assert.match(record, new RegExp(`name: ${pod.name}`));
    assert.match(q.spec.recordPath!, new RegExp(`^records/${qdeps.cluster}/${ns}/${pod.name}-[0-9a-f]{8}\\.yaml$`));
    const log = await git(repo.bareDir, 'log', '-1', '--format=%an|%s', 'main');
    assert.equal(log.split('|')[0], 'bulkhead');
    assert.match(log, new RegExp(`quarantine: ${ns}/${pod.name} \\(policy au1-policy, ConsecutiveFailures\\)`));
    const [after] = await listQuarantines(qdeps.client, qdeps.resolver, ns);
    assert.equal(after!.status?.audit?.state, 'Committed');
    assert.equal(after!.status?.audit?.commit, await git(repo.bareDir, 'rev-parse', 'main'));
    // Nothing left: a second flush writes nothing.
    assert.equal((await flush()).committed, 0);
    assert.equal(await commitCount(repo), before + 1);
  });

  it('a record pushed just before a crash is recognised, not written twice', async () => {
    const { q } = await quarantineOne('au2');
    const { recordDocument } = await import('../../engine/src/audit/record-document.js');
    // The crash: the push happened, the status update did not.
    await odeps.repo.commitAndPush(
      [{ path: q.spec.recordPath!, content: recordDocument(q) }],
      'quarantine (pushed before a crash)',
    );
    const before = await commitCount(repo);
    const r = await flush();
    assert.equal(r.recovered, 1);
    assert.equal(r.committed, 0);
    assert.equal(await commitCount(repo), before, 'no second commit');
  });

  it('records wait while the remote is unreachable and are pushed once it is back', async () => {
    const { q } = await quarantineOne('au3');
    await rename(repo.bareDir, `${repo.bareDir}.away`);
    await assert.rejects(flush(), /AuditPushFailed|records/);
    const [pending] = await listQuarantines(qdeps.client, qdeps.resolver, q.metadata.namespace);
    assert.notEqual(pending!.status?.audit?.state, 'Committed');
    await rename(`${repo.bareDir}.away`, repo.bareDir);
    const r = await flush();
    assert.equal(r.committed, 1);
    assert.equal(recordUid(await showAtMain(repo, q.spec.recordPath!)), q.metadata.uid);
  });

  it('a human commit racing the push is kept: fetch, rebase, push again, never force', async () => {
    const { q } = await quarantineOne('au4');
    // Inject the race exactly: the engine clone's pre-push hook makes a human commit land first.
    await odeps.repo.sync();
    const hook = join(cacheDir, 'work', '.git', 'hooks', 'pre-push');
    const marker = join(cacheDir, 'raced');
    await writeFile(
      hook,
      `#!/bin/sh\n[ -e '${marker}' ] && exit 0\ntouch '${marker}'\ncd '${repo.workDir}' && git pull -q --rebase origin main && echo human > policies/human.txt && git add -A && git commit -qm 'human change' && git push -q origin HEAD:refs/heads/main\n`,
    );
    await chmod(hook, 0o755);
    const r = await flush();
    assert.equal(r.committed, 1);
    const subjects = (await git(repo.bareDir, 'log', '--format=%s', 'main')).split('\n');
    assert.ok(subjects.includes('human change'), 'the human commit is in history');
    assert.match(subjects[0]!, /^quarantine: /, 'ours rebased on top of it');
    assert.equal(recordUid(await showAtMain(repo, q.spec.recordPath!)), q.metadata.uid);
    assert.equal(await showAtMain(repo, 'policies/human.txt'), 'human');
  });

  it('five pods failing on one node are one incident and one commit', async () => {
    const kc = getCluster().kubeConfig();
    const ns = await newNamespace('au5');
    const pods = await runDeployment(kc, ns, 'batch', 5);
    const failing = pods.map((p) => healthOf(p, { node: 'kwok-node-0', owner: undefined }));
    const incidents = groupIncidents(failing.map((p) => ({ pod: p, signals: [failingSignal(p)] })));
    assert.deepEqual(
      incidents.map((i) => i.key),
      ['node/kwok-node-0'],
    );
    const result = await executeVerdict(
      qdeps,
      decide(incidents[0]!, policy('au5-policy', { budget: { maxUnavailable: 5 } }), []),
    );
    assert.equal(result.taken.filter((t) => t.outcome === 'done').length, 5);
    const before = await commitCount(repo);
    const r = await flush();
    assert.equal(r.committed, 5);
    assert.equal(await commitCount(repo), before + 1, 'one commit');
    assert.match(await git(repo.bareDir, 'log', '-1', '--format=%s', 'main'), /^quarantine: 5 pods/);
  });

  it('deleting the record in git releases the pod', async () => {
    const { ns, pod, q } = await quarantineOne('au6');
    await flush();
    await humanCommit(repo, { [q.spec.recordPath!]: null }, `release ${pod.name}: fixed upstream`);
    // The released pod matches its ReplicaSet again, which now holds one pod too many and may
    // scale down either one (its choice, not ours): watch the pod, so its restored labels are
    // seen even if the ReplicaSet deletes it right after.
    const seen = await watchPodLabels(ns, pod.name);
    const r = await releaseFromGit(odeps);
    assert.deepEqual(r.released, [`${ns}/${q.metadata.name}`]);
    const restored = await eventually(
      () => {
        const labels = seen.labels.find((l) => l.app === 'api');
        assert.ok(labels, `owner labels restored (seen: ${JSON.stringify(seen.labels)})`);
        return labels;
      },
      { what: 'released pod relabelled', timeoutMs: 10_000 },
    ).finally(() => seen.stop());
    assert.equal(restored['bulkhead.dev/quarantined'], undefined);
    const [after] = await listQuarantines(qdeps.client, qdeps.resolver, ns);
    assert.equal(after!.status?.phase, 'Released');
    assert.deepEqual((await releaseFromGit(odeps)).released, [], 'released once');
  });

  it('releaseAfter releases automatically and commits the removal', async () => {
    const { ns, pod, q } = await quarantineOne('au7', { releaseAfter: '1s' });
    await flush();
    const seen = await watchPodLabels(ns, pod.name);
    const r = await eventually(
      async () => {
        const out = await releaseFromGit(odeps);
        assert.equal(out.released.length, 1);
        return out;
      },
      { timeoutMs: 10_000, intervalMs: 300, what: 'TTL release' },
    );
    assert.deepEqual(r.released, [`${ns}/${q.metadata.name}`]);
    await assert.rejects(showAtMain(repo, q.spec.recordPath!), 'record removed from git');
    assert.match(
      await git(repo.bareDir, 'log', '-1', '--format=%s', 'main'),
      new RegExp(`^release: ${ns}/${pod.name} .*releaseAfter 1s elapsed`),
    );
    await eventually(
      () =>
        assert.ok(
          seen.labels.some((l) => l.app === 'api' && l['bulkhead.dev/quarantined'] === undefined),
          `owner labels restored (seen: ${JSON.stringify(seen.labels)})`,
        ),
      { what: 'released pod relabelled', timeoutMs: 10_000 },
    ).finally(() => seen.stop());
  });
});
