// GitOps sync end to end: a real bare repository (file:// and smart HTTP over TLS with a
// token), the engine as a child process under the ServiceAccount and RBAC of deploy/rbac, and
// the real apiserver. Commit → HealthPolicies appear; change → updated; delete → pruned; an
// invalid commit is refused with file:line diagnostics while the last good state stays.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { hmacSha256Hex } from '../../engine/src/source/webhook-signature.js';
import { KubeClient, KubeApiError } from '../../engine/src/core/kube/client.js';
import { KubeConfig } from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import { eventually, newNamespace } from '../harness/index.js';
import { installEngineRbac, startEngineProcess, type EngineProcess } from '../harness/engine-process.js';
import { createTestRepo, type TestRepo } from '../harness/git-repo.js';
import { startGitHttpServer, type GitHttpServer } from '../harness/git-http-server.js';
import {
  adminClient,
  createSource,
  deleteQuietly,
  eventsFor,
  getPolicy,
  getSource,
  HP,
  metricValue,
  policyYaml,
  PS,
  ready,
} from './support/gitops.js';

const WEBHOOK_SECRET = 'hook-secret-5f2a';

describe('GitOps sync (engine process, real git, real apiserver, engine RBAC)', function () {
  this.timeout(120_000);
  let ns: string;
  let repo: TestRepo;
  let engine: EngineProcess;
  let kubeconfigPath: string;
  let source: string;
  let admin: KubeClient;
  const name = (p: string): string => `${ns}-${p}`;

  before(async () => {
    admin = adminClient();
    ns = await newNamespace('gitops');
    ({ kubeconfigPath } = await installEngineRbac(ns));
    repo = await createTestRepo();
    source = name('src');
    await repo.commit({
      'policies/a.yaml': policyYaml(name('a'), ns, 3),
      'policies/b.yaml': policyYaml(name('b'), ns, 4),
      'README.md': '# policies\n',
    });
    // An object Bulkhead did not create: it must survive every sync and prune.
    await admin.request({
      method: 'POST',
      path: HP,
      body: {
        apiVersion: 'bulkhead.dev/v1alpha1',
        kind: 'HealthPolicy',
        metadata: { name: name('handmade') },
        spec: JSON.parse(
          JSON.stringify({
            match: { namespaces: [ns] },
            probe: { tcp: { port: 80 } },
            detect: { rules: [{ type: 'CrashLoop' }] },
            action: { type: 'Alert' },
          }),
        ),
      },
    });
    await createSource(admin, source, { url: repo.url, ref: { branch: 'main' }, interval: '1s' });
    engine = await startEngineProcess({
      name: `engine-${ns}`,
      kubeconfigPath,
      namespace: ns,
      env: { BULKHEAD_WEBHOOK_SECRET: WEBHOOK_SECRET },
    });
  });
  after(async () => {
    await engine?.stop();
    await deleteQuietly(admin, `${PS}/${source}`);
    await deleteQuietly(admin, `${PS}/${name('https')}`);
    for (const p of ['a', 'b', 'c', 'handmade', 'h1', 'h2']) await deleteQuietly(admin, `${HP}/${name(p)}`);
    await repo?.remove();
    admin.close();
  });

  it('runs as the engine ServiceAccount, limited to deploy/rbac (no cluster-admin)', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(await readFile(kubeconfigPath, 'utf8'));
    const asEngine = new KubeClient(kc);
    try {
      assert.match(kc.getCurrentUser()?.name ?? '', new RegExp(`^system:serviceaccount:${ns}:bulkhead-engine$`));
      // What deploy/rbac does not grant is refused: listing Secrets or ConfigMaps, Deployments,
      // other namespaces' Leases, and any write to a PolicySource's spec (or deleting one).
      for (const path of [
        `/api/v1/namespaces/${ns}/secrets`,
        `/api/v1/namespaces/${ns}/configmaps`,
        '/apis/apps/v1/deployments',
        '/apis/coordination.k8s.io/v1/namespaces/default/leases',
      ]) {
        await assert.rejects(
          asEngine.request({ method: 'GET', path }),
          (e: unknown) => e instanceof KubeApiError && e.code === 403,
          path,
        );
      }
      await assert.rejects(
        asEngine.request({ method: 'DELETE', path: `${PS}/${source}` }),
        (e: unknown) => e instanceof KubeApiError && e.code === 403,
        'delete PolicySource',
      );
      await assert.rejects(
        asEngine.request({
          method: 'PATCH',
          path: `${PS}/${source}`,
          contentType: 'application/merge-patch+json',
          body: { spec: { interval: '5s' } },
        }),
        (e: unknown) => e instanceof KubeApiError && e.code === 403,
        'patch PolicySource spec',
      );
    } finally {
      asEngine.close();
    }
  });

  it('commit → HealthPolicies appear, labelled as inventory, with Ready=True at that revision', async () => {
    const head = await repo.head();
    const s = await eventually(
      async () => {
        const s = await getSource(admin, source);
        assert.equal(s.status?.lastAppliedRevision, head, JSON.stringify(s.status));
        assert.equal(ready(s).status, 'True');
        return s;
      },
      { timeoutMs: 30_000, what: 'first revision applied' },
    );
    assert.equal(s.status?.policies, 2);
    const a = await getPolicy(admin, name('a'));
    assert.equal((a?.spec as { detect: { rules: { threshold: number }[] } }).detect.rules[0]!.threshold, 3);
    assert.equal(a?.metadata.labels?.['app.kubernetes.io/managed-by'], 'bulkhead');
    assert.equal(a?.metadata.labels?.['bulkhead.dev/policy-source'], source);
    assert.equal(a?.metadata.annotations?.['bulkhead.dev/source'], 'policies/a.yaml:1');
    assert.ok(a?.metadata.managedFields?.some((m) => m.manager === 'bulkhead' && m.operation === 'Apply'));
    assert.deepEqual(a?.metadata.ownerReferences, [
      { apiVersion: 'bulkhead.dev/v1alpha1', kind: 'PolicySource', name: source, uid: s.metadata.uid },
    ]);
    assert.ok(await getPolicy(admin, name('b')));
  });

  it('change → updated; file deleted → pruned; objects Bulkhead did not create are untouched', async () => {
    const handmade = await getPolicy(admin, name('handmade'));
    const head = await repo.commit({ 'policies/a.yaml': policyYaml(name('a'), ns, 7), 'policies/b.yaml': null });
    await eventually(
      async () => {
        const a = await getPolicy(admin, name('a'));
        assert.equal((a?.spec as { detect: { rules: { threshold: number }[] } }).detect.rules[0]!.threshold, 7);
        assert.equal(await getPolicy(admin, name('b')), undefined, 'b pruned');
        assert.equal((await getSource(admin, source)).status?.lastAppliedRevision, head);
      },
      { timeoutMs: 30_000, what: 'update and prune applied' },
    );
    const after = await getPolicy(admin, name('handmade'));
    assert.equal(
      after?.metadata.resourceVersion,
      handmade?.metadata.resourceVersion,
      'the hand-made policy was not written to',
    );
  });

  it('an invalid commit → Ready=False ValidationFailed with file:line, a Warning Event, last good objects unchanged; the next valid commit recovers', async () => {
    const goodRevision = (await getSource(admin, source)).status?.lastAppliedRevision;
    const aBefore = await getPolicy(admin, name('a'));
    const bad = policyYaml(name('c'), ns, 3).replace('type: ConsecutiveFailures', 'type: NoSuchRule');
    const badHead = await repo.commit(
      { 'policies/c.yaml': bad, 'policies/a.yaml': policyYaml(name('a'), ns, 9) },
      'broken policy',
    );
    const s = await eventually(
      async () => {
        const s = await getSource(admin, source);
        assert.equal(s.status?.lastAttemptedRevision, badHead);
        assert.equal(ready(s).status, 'False');
        assert.equal(ready(s).reason, 'ValidationFailed');
        return s;
      },
      { timeoutMs: 30_000, what: 'bad revision refused' },
    );
    assert.equal(s.status?.lastAppliedRevision, goodRevision, 'last applied revision stays the good one');
    const errs = s.status?.validationErrors ?? [];
    assert.ok(
      errs.some((e) => e.file === 'policies/c.yaml' && e.line === 14 && e.code === 'BH_INVALID_VALUE'),
      JSON.stringify(errs),
    );
    assert.match(ready(s).message ?? '', /policies\/c\.yaml:14:/);
    assert.equal(s.status?.conditions?.find((c) => c.type === 'Stalled')?.status, 'True');
    const aAfter = await getPolicy(admin, name('a'));
    assert.equal(
      aAfter?.metadata.resourceVersion,
      aBefore?.metadata.resourceVersion,
      'nothing of the bad revision was applied',
    );
    assert.equal(await getPolicy(admin, name('c')), undefined);
    await eventually(
      async () => {
        const ev = await eventsFor(admin, 'default', source);
        assert.ok(
          ev.some(
            (e) => e.type === 'Warning' && e.reason === 'ValidationFailed' && /policies\/c\.yaml:14/.test(e.message),
          ),
          JSON.stringify(ev),
        );
      },
      { what: 'Warning Event' },
    );

    const fixed = await repo.commit({ 'policies/c.yaml': policyYaml(name('c'), ns, 5) }, 'fix policy');
    await eventually(
      async () => {
        const s2 = await getSource(admin, source);
        assert.equal(s2.status?.lastAppliedRevision, fixed);
        assert.equal(ready(s2).status, 'True');
        assert.equal(s2.status?.validationErrors, undefined, 'diagnostics cleared');
        assert.equal(s2.status?.conditions?.find((c) => c.type === 'Stalled')?.status, 'False');
      },
      { timeoutMs: 30_000, what: 'recovered' },
    );
    assert.ok(await getPolicy(admin, name('c')));
    assert.equal(
      ((await getPolicy(admin, name('a')))?.spec as { detect: { rules: { threshold: number }[] } }).detect.rules[0]!
        .threshold,
      9,
    );
    const ev = await eventsFor(admin, 'default', source);
    assert.ok(ev.some((e) => e.type === 'Normal' && e.reason === 'Applied'));
  });

  it('a resync of an unchanged revision makes no writes (no status churn, no applies)', async () => {
    const s1 = await getSource(admin, source);
    const reconciles = async (): Promise<number> =>
      metricValue(engine.url, 'bulkhead_source_reconcile_duration_seconds_count', { source });
    const writes = async (): Promise<number> =>
      (await metricValue(engine.url, 'bulkhead_kube_request_duration_seconds_count', { verb: 'PATCH' })) +
      (await metricValue(engine.url, 'bulkhead_kube_request_duration_seconds_count', { verb: 'DELETE' }));
    const w0 = await writes();
    const r0 = await reconciles();
    // interval is 1s: wait for three more polls, each fetching and planning
    await eventually(async () => assert.ok((await reconciles()) >= r0 + 3), {
      timeoutMs: 20_000,
      what: 'three more polls',
    });
    assert.equal(await writes(), w0, 'no PATCH or DELETE during no-op resyncs');
    assert.equal(
      (await getSource(admin, source)).metadata.resourceVersion,
      s1.metadata.resourceVersion,
      'status not rewritten',
    );
  });

  it('corrects drift: a hand edit of a managed field is put back on the next sync', async () => {
    // Argo CD also applies to this object, but a field Bulkhead does not set: that is no
    // conflict, and it must not stop Bulkhead from undoing the hand edit below.
    await admin.request({
      method: 'PATCH',
      path: `${HP}/${name('a')}`,
      query: { fieldManager: 'argocd-controller', fieldValidation: 'Strict' },
      contentType: 'application/apply-patch+yaml',
      body: {
        apiVersion: 'bulkhead.dev/v1alpha1',
        kind: 'HealthPolicy',
        metadata: { name: name('a'), annotations: { 'argocd.argoproj.io/tracking-id': 'x' } },
      },
    });
    await admin.request({
      method: 'PATCH',
      path: `${HP}/${name('a')}`,
      query: { fieldManager: 'kubectl-edit' },
      contentType: 'application/merge-patch+json',
      body: { spec: { action: { type: 'Restart' } } },
    });
    await eventually(
      async () => {
        const a = await getPolicy(admin, name('a'));
        assert.equal((a?.spec as { action: { type: string } }).action.type, 'Alert');
      },
      { timeoutMs: 20_000, what: 'drift corrected' },
    );
    assert.equal(
      (await getPolicy(admin, name('a')))?.metadata.annotations?.['argocd.argoproj.io/tracking-id'],
      'x',
      "the other tool's field is kept",
    );
    assert.equal(ready(await getSource(admin, source)).status, 'True');
  });

  it('a commit that only touches records/ re-applies nothing', async () => {
    const before = await getPolicy(admin, name('a'));
    const head = await repo.commit(
      { [`records/test-cluster/${ns}/web-1-abcdef12.yaml`]: 'pod: web-1\n' },
      'audit record',
    );
    await eventually(async () => assert.equal((await getSource(admin, source)).status?.lastAppliedRevision, head), {
      timeoutMs: 20_000,
      what: 'records commit seen',
    });
    assert.equal(
      (await getPolicy(admin, name('a')))?.metadata.resourceVersion,
      before?.metadata.resourceVersion,
      'policy not re-applied',
    );
  });

  describe('push webhook', () => {
    before(async () => {
      // Polling off (1h): from now on only the webhook makes this source sync.
      await admin.request({
        method: 'PATCH',
        path: `${PS}/${source}`,
        contentType: 'application/merge-patch+json',
        body: { spec: { interval: '1h' } },
      });
      await eventually(
        async () =>
          assert.equal(
            (await getSource(admin, source)).status?.observedGeneration,
            (await getSource(admin, source)).metadata.generation,
          ),
        { what: 'new interval observed' },
      );
    });

    it('an invalid signature is 401 and syncs nothing; a valid one syncs at once', async () => {
      const head = await repo.commit({ 'policies/a.yaml': policyYaml(name('a'), ns, 11) });
      const body = JSON.stringify({ ref: 'refs/heads/main', after: head });
      const hooks0 = await metricValue(engine.url, 'bulkhead_source_triggers_total', { source, trigger: 'webhook' });
      const bad = await fetch(`${engine.url}/hooks/git/${source}`, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': `sha256=${hmacSha256Hex('wrong', body)}`,
        },
      });
      assert.equal(bad.status, 401);
      const missing = await fetch(`${engine.url}/hooks/git/${source}`, { method: 'POST', body });
      assert.equal(missing.status, 401);
      assert.equal(
        await metricValue(engine.url, 'bulkhead_source_triggers_total', { source, trigger: 'webhook' }),
        hooks0,
        'no sync triggered',
      );
      assert.notEqual((await getSource(admin, source)).status?.lastAttemptedRevision, head);

      const t0 = Date.now();
      const ok = await fetch(`${engine.url}/hooks/git/${source}`, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': `sha256=${hmacSha256Hex(WEBHOOK_SECRET, body)}`,
        },
      });
      assert.equal(ok.status, 202);
      await eventually(async () => assert.equal((await getSource(admin, source)).status?.lastAppliedRevision, head), {
        timeoutMs: 15_000,
        what: 'webhook-triggered sync',
      });
      assert.ok(Date.now() - t0 < 15_000);
      assert.equal(
        ((await getPolicy(admin, name('a')))?.spec as { detect: { rules: { threshold: number }[] } }).detect.rules[0]!
          .threshold,
        11,
      );
      // GitLab's token header works too.
      const gl = await fetch(`${engine.url}/hooks/git/${source}`, {
        method: 'POST',
        body,
        headers: { 'x-gitlab-token': WEBHOOK_SECRET },
      });
      assert.equal(gl.status, 202);
      const unknown = await fetch(`${engine.url}/hooks/git/no-such-source`, {
        method: 'POST',
        body,
        headers: { 'x-gitlab-token': WEBHOOK_SECRET },
      });
      assert.equal(unknown.status, 404);
    });

    it('a burst of webhooks coalesces into at most two syncs', async () => {
      const head = await repo.commit({ 'policies/a.yaml': policyYaml(name('a'), ns, 12) });
      const body = JSON.stringify({ ref: 'refs/heads/main', after: head });
      const runs0 = await metricValue(engine.url, 'bulkhead_source_reconcile_duration_seconds_count', { source });
      const coalesced0 = await metricValue(engine.url, 'bulkhead_source_triggers_coalesced_total', { source });
      const sig = `sha256=${hmacSha256Hex(WEBHOOK_SECRET, body)}`;
      const answers = await Promise.all(
        Array.from({ length: 10 }, () =>
          fetch(`${engine.url}/hooks/git/${source}`, { method: 'POST', body, headers: { 'x-hub-signature-256': sig } }),
        ),
      );
      assert.deepEqual(
        answers.map((a) => a.status),
        Array(10).fill(202),
      );
      await eventually(async () => assert.equal((await getSource(admin, source)).status?.lastAppliedRevision, head), {
        timeoutMs: 15_000,
        what: 'burst applied',
      });
      await eventually(
        async () =>
          assert.ok(
            (await metricValue(engine.url, 'bulkhead_source_triggers_coalesced_total', { source })) - coalesced0 >= 8,
          ),
        { what: 'coalesced' },
      );
      const runs =
        (await metricValue(engine.url, 'bulkhead_source_reconcile_duration_seconds_count', { source })) - runs0;
      assert.ok(runs >= 1 && runs <= 2, `${runs} syncs for 10 webhooks`);
    });

    it('follows a force-push that rewrote history', async () => {
      const rewritten = await repo.forcePush({
        'policies/a.yaml': policyYaml(name('a'), ns, 13),
        'policies/c.yaml': policyYaml(name('c'), ns, 5),
      });
      const body = JSON.stringify({ ref: 'refs/heads/main', after: rewritten, forced: true });
      const res = await fetch(`${engine.url}/hooks/git/${source}`, {
        method: 'POST',
        body,
        headers: { 'x-signature-256': `sha256=${hmacSha256Hex(WEBHOOK_SECRET, body)}` },
      });
      assert.equal(res.status, 202);
      await eventually(
        async () => {
          const s = await getSource(admin, source);
          assert.equal(s.status?.lastAppliedRevision, rewritten);
          assert.equal(ready(s).status, 'True');
        },
        { timeoutMs: 15_000, what: 'rewritten history applied' },
      );
      assert.equal(
        ((await getPolicy(admin, name('a')))?.spec as { detect: { rules: { threshold: number }[] } }).detect.rules[0]!
          .threshold,
        13,
      );
    });
  });

  describe('over smart HTTP (git http-backend, TLS, token from a Secret)', () => {
    let server: GitHttpServer;
    let httpsRepo: TestRepo;
    const token = 'ghp-test-token-8c1d2e';
    before(async () => {
      httpsRepo = await createTestRepo();
      server = await startGitHttpServer({ projectRoot: join(httpsRepo.bareDir, '..'), token });
      await admin.request({
        method: 'POST',
        path: `/api/v1/namespaces/${ns}/secrets`,
        body: { metadata: { name: 'git-token' }, stringData: { token, 'ca.crt': server.caCert } },
      });
    });
    after(async () => {
      await server?.close();
      await httpsRepo?.remove();
    });

    it('syncs with the token (appear, update, prune), and the token appears in no log line or status', async () => {
      const head = await httpsRepo.commit({ 'policies/h1.yaml': policyYaml(name('h1'), ns, 2) });
      await createSource(admin, name('https'), {
        url: `${server.url}/origin.git`,
        ref: { branch: 'main' },
        interval: '1s',
        secretRef: { name: 'git-token' },
      });
      await eventually(
        async () => {
          const s = await getSource(admin, name('https'));
          assert.equal(s.status?.lastAppliedRevision, head, JSON.stringify(s.status));
        },
        { timeoutMs: 30_000, what: 'https source applied' },
      );
      assert.ok(await getPolicy(admin, name('h1')));
      assert.ok(
        server.requests.length > 0 && server.requests.every((r) => r.auth === 'basic'),
        'every git request authenticated',
      );
      // change → updated, delete → pruned, over the same authenticated path
      const h2 = await httpsRepo.commit({
        'policies/h1.yaml': policyYaml(name('h1'), ns, 6),
        'policies/h2.yaml': policyYaml(name('h2'), ns, 2),
      });
      await eventually(
        async () => {
          assert.equal((await getSource(admin, name('https'))).status?.lastAppliedRevision, h2);
          assert.equal(
            ((await getPolicy(admin, name('h1')))?.spec as { detect: { rules: { threshold: number }[] } }).detect
              .rules[0]!.threshold,
            6,
          );
        },
        { timeoutMs: 30_000, what: 'https update' },
      );
      const h3 = await httpsRepo.commit({ 'policies/h2.yaml': null });
      await eventually(
        async () => {
          assert.equal((await getSource(admin, name('https'))).status?.lastAppliedRevision, h3);
          assert.equal(await getPolicy(admin, name('h2')), undefined);
        },
        { timeoutMs: 30_000, what: 'https prune' },
      );
      assert.ok(await getPolicy(admin, name('a')), "the other source's objects are untouched by this source's prune");
      const log = await engine.log();
      assert.ok(!log.includes(token), 'token not in the engine log');
      assert.ok(!JSON.stringify(await getSource(admin, name('https'))).includes(token));
    });

    it('deleting a PolicySource lets the garbage collector remove what it applied, and only that', async () => {
      assert.ok(await getPolicy(admin, name('h1')));
      await admin.request({ method: 'DELETE', path: `${PS}/${name('https')}` });
      await eventually(async () => assert.equal(await getPolicy(admin, name('h1')), undefined), {
        timeoutMs: 30_000,
        what: 'owned policies collected',
      });
      assert.ok(await getPolicy(admin, name('a')), "the other source's policies stay");
      assert.ok(await getPolicy(admin, name('handmade')), 'unowned policies stay');
    });
  });
});
