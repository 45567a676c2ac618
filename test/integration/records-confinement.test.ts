// Records path confinement (issue 14, ADR 1402), against a real bare repository and the real
// control plane: a committer to the policy repository turns a record's folder or file into a
// symbolic link. The engine never writes through it (outside its clone, or onto the link's
// target), says why on the Quarantine (condition and Warning Event), keeps writing the other
// records, and never reports a commit it did not make as the record's commit.
import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { decide } from '../../engine/src/analytics/decide.js';
import { groupIncidents } from '../../engine/src/analytics/grouping.js';
import { flushOutbox, type OutboxDeps } from '../../engine/src/audit/outbox.js';
import { recordUid } from '../../engine/src/audit/record-document.js';
import { COMMIT_MISMATCH_CODE, RecordsRepo } from '../../engine/src/audit/records-repo.js';
import { findCondition, type HealthPolicy, type Quarantine } from '../../engine/src/core/api/index.js';
import { isBulkheadError } from '../../engine/src/core/errors.js';
import { KubeClient } from '../../engine/src/core/kube/client.js';
import { EventRecorder } from '../../engine/src/core/kube/events.js';
import { ResourceResolver } from '../../engine/src/core/kube/resources.js';
import { silentLogger } from '../../engine/src/core/logger.js';
import { executeVerdict, listQuarantines, type QuarantineDeps } from '../../engine/src/quarantine/index.js';
import { createTestRepo, git, HERMETIC_GIT_ENV, type TestRepo } from '../harness/git-repo.js';
import { getCluster, newNamespace } from '../harness/index.js';
import { failingSignal, healthOf, runDeployment } from './support/quarantine-fixtures.js';

const policy: HealthPolicy = {
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name: 'confinement' },
  spec: {
    match: {},
    probe: { http: { path: '/healthz', port: 8080 } },
    detect: { rules: [{ type: 'ConsecutiveFailures' }] },
    action: { type: 'Quarantine' },
  },
};

describe('records path confinement: symlinks committed to the policy repository', () => {
  let repo: TestRepo;
  let qdeps: QuarantineDeps;
  let odeps: OutboxDeps;
  let outside: string;

  beforeEach(async () => {
    repo = await createTestRepo('bh-confine-');
    await repo.commit({ 'policies/README.md': 'policies live here\n' }, 'initial');
    outside = await mkdtemp(join(tmpdir(), 'bh-confine-outside-'));
    const client = new KubeClient(getCluster().kubeConfig());
    const logger = silentLogger();
    const resolver = new ResourceResolver(client);
    const events = new EventRecorder(client, { component: 'bulkhead', instance: 'test', logger });
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
        cacheDir: join(repo.bareDir, '..', 'engine-cache'),
        env: { path: HERMETIC_GIT_ENV.PATH!, home: HERMETIC_GIT_ENV.HOME! },
        author: { name: 'bulkhead', email: 'bulkhead@noreply.invalid' },
        logger,
      }),
    };
  });
  afterEach(async () => {
    await repo.remove();
    await rm(outside, { recursive: true, force: true });
  });

  async function quarantineOne(prefix: string): Promise<Quarantine> {
    const ns = await newNamespace(prefix);
    const pods = await runDeployment(getCluster().kubeConfig(), ns, 'api', 2);
    const p = healthOf(pods[0]!);
    const [incident] = groupIncidents([{ pod: p, signals: [failingSignal(p)] }]);
    assert.equal((await executeVerdict(qdeps, decide(incident!, policy, []))).taken[0]!.outcome, 'done');
    const [q] = await listQuarantines(qdeps.client, qdeps.resolver, ns);
    return q!;
  }

  /** A committer's change: `path` in the repository becomes a symbolic link to `target`. */
  async function commitLink(path: string, target: string): Promise<string> {
    await git(repo.workDir, 'pull', '--quiet', '--rebase', 'origin', 'main');
    await mkdir(dirname(join(repo.workDir, path)), { recursive: true });
    await symlink(target, join(repo.workDir, path));
    return repo.commit({}, `add ${path}`);
  }

  const current = async (q: Quarantine): Promise<Quarantine> =>
    (await listQuarantines(qdeps.client, qdeps.resolver, q.metadata.namespace)).find(
      (x) => x.metadata.name === q.metadata.name,
    )!;

  async function warningEvents(q: Quarantine): Promise<{ reason?: string; message?: string }[]> {
    const list = await qdeps.client.request<{ items: { reason?: string; message?: string; type?: string }[] }>({
      method: 'GET',
      path: `/api/v1/namespaces/${q.metadata.namespace}/events`,
      query: { fieldSelector: `involvedObject.name=${q.metadata.name},involvedObject.kind=Quarantine` },
    });
    return list.items.filter((e) => e.type === 'Warning');
  }

  it('a directory link (records/<cluster>/<ns> -> outside) is refused: nothing written outside, the Quarantine says why, other records still go out', async () => {
    const linked = await quarantineOne('conf-dir');
    const clean = await quarantineOne('conf-ok');
    const folder = `records/${qdeps.cluster}/${linked.metadata.namespace}`;
    await commitLink(folder, outside);

    const r = await flushOutbox(odeps);

    assert.deepEqual(await readdir(outside), [], 'no record written outside the clone');
    // The record that could be written was, in the same flush: one link blocks nobody else.
    assert.equal(r.committed, 1);
    assert.equal(recordUid(await git(repo.bareDir, 'show', `main:${clean.spec.recordPath}`)), clean.metadata.uid);
    assert.equal((await current(clean)).status?.audit?.state, 'Committed');
    const held = await current(linked);
    assert.notEqual(held.status?.audit?.state, 'Committed');
    const cond = findCondition(held.status?.conditions, 'RecordsPushed');
    assert.equal(cond?.status, 'False');
    assert.equal(cond?.reason, 'RecordPathUnsafe');
    assert.match(cond?.message ?? '', new RegExp(`${folder} is a symbolic link`));
    const events = await warningEvents(held);
    assert.ok(
      events.some((e) => e.reason === 'RecordPathUnsafe' && e.message?.includes(folder)),
      JSON.stringify(events),
    );
    // Nothing spins: a second flush writes nothing and adds no second Event.
    assert.equal((await flushOutbox(odeps)).committed, 0);
    assert.equal((await warningEvents(held)).length, events.length);
  });

  it("a file link (the record's own path -> a file) is refused: the target is untouched and no commit is reported as the record's", async () => {
    const q = await quarantineOne('conf-file');
    const target = join(outside, 'victim.txt');
    await writeFile(target, 'not yours\n');
    const tip = await commitLink(q.spec.recordPath!, target);

    const r = await flushOutbox(odeps);

    assert.equal(await readFile(target, 'utf8'), 'not yours\n', 'the link target was not overwritten');
    assert.equal(r.committed, 0);
    assert.equal(r.commit, undefined);
    assert.equal(await git(repo.bareDir, 'rev-parse', 'main'), tip, 'nothing pushed');
    const held = await current(q);
    assert.notEqual(held.status?.audit?.state, 'Committed');
    assert.notEqual(held.status?.audit?.commit, tip, "the committer's commit is not the record's");
    assert.equal(findCondition(held.status?.conditions, 'RecordsPushed')?.reason, 'RecordPathUnsafe');
  });

  it('commitAndPush never reports a sha it did not commit: a write that changes nothing is an error, not the old tip', async () => {
    const tip = await repo.commit({ 'records/x/ns/same.yaml': 'same\n' }, 'a record a human wrote');
    await assert.rejects(
      odeps.repo.commitAndPush([{ path: 'records/x/ns/same.yaml', content: 'same\n' }], 'write what is there'),
      (err: unknown) => isBulkheadError(err) && err.code === COMMIT_MISMATCH_CODE,
    );
    assert.equal(await git(repo.bareDir, 'rev-parse', 'main'), tip);
    // A real change is committed, verified and pushed: the sha returned is the new tip.
    const sha = await odeps.repo.commitAndPush([{ path: 'records/x/ns/new.yaml', content: 'new\n' }], 'new record');
    assert.notEqual(sha, tip);
    assert.equal(await git(repo.bareDir, 'rev-parse', 'main'), sha);
  });
});
