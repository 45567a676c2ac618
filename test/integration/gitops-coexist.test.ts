// Coexistence with Argo CD / Flux, and `bulkhead plan`:
//  (b) --apply=false: Argo applies `bulkhead render`, the engine only reads and writes nothing;
//  (a) apply mode never fights another declarative field manager: the conflict is reported in
//      status, unless --force-conflicts;
//  `bulkhead plan` computes create/update/prune by server-side dry run: exit 0/3/1.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadAll } from 'js-yaml';
import type { KubeClient } from '../../engine/src/core/kube/client.js';
import type { KubeObject } from '../../engine/src/core/kube/resources.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
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

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}
const cli = (args: string[]): Promise<CliResult> =>
  new Promise((ok) => {
    execFile(
      process.execPath,
      [resolve('bin/bulkhead.js'), ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: tmpdir() }, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        ok({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });

const threshold = (o: KubeObject | undefined): number =>
  (o?.spec as { detect: { rules: { threshold: number }[] } }).detect.rules[0]!.threshold;

describe('GitOps coexistence (Argo CD / Flux modes) and bulkhead plan', function () {
  // The plan test runs the CLI seven times (tsx start-up each): generous on a loaded machine.
  this.timeout(240_000);
  let ns: string;
  let repo: TestRepo;
  let admin: KubeClient;
  let kubeconfigPath: string;
  let engine: EngineProcess | undefined;
  let source: string;
  const name = (p: string): string => `${ns}-${p}`;
  const plan = (dir: string, ...more: string[]): Promise<CliResult> =>
    cli(['plan', '--source', dir, '--kubeconfig', getCluster().kubeconfigPath, '--source-name', source, ...more]);

  before(async () => {
    admin = adminClient();
    ns = await newNamespace('coexist');
    ({ kubeconfigPath } = await installEngineRbac(ns));
    repo = await createTestRepo();
    source = name('src');
    await repo.commit({
      'policies/a.yaml': policyYaml(name('a'), ns, 3),
      'policies/b.yaml': policyYaml(name('b'), ns, 3),
    });
    await createSource(admin, source, { url: repo.url, ref: { branch: 'main' }, interval: '1s' });
  });
  after(async () => {
    await engine?.stop();
    await deleteQuietly(admin, `${PS}/${source}`);
    for (const p of ['a', 'b', 'c']) await deleteQuietly(admin, `${HP}/${name(p)}`);
    await repo?.remove();
    admin.close();
  });

  it('plan on an empty cluster: exit 3, two creates, nothing written', async () => {
    const r = await plan(repo.workDir, '--output', 'json');
    assert.equal(r.code, 3, r.stderr);
    const out = JSON.parse(r.stdout) as { counts: Record<string, number>; items: { action: string; name: string }[] };
    assert.deepEqual(out.counts, { create: 2, update: 0, prune: 0, unchanged: 0 });
    assert.equal(await getPolicy(admin, name('a')), undefined, 'dry run wrote nothing');
  });

  it('--apply=false: Argo CD applies `bulkhead render`; the engine reads HealthPolicies and writes nothing', async () => {
    const rendered = await cli(['render', repo.workDir]);
    assert.equal(rendered.code, 0, rendered.stderr);
    // Argo CD's server-side apply of the rendered manifests, under its own field manager.
    for (const doc of loadAll(rendered.stdout)) {
      if (!doc) continue;
      await admin.request({
        method: 'PATCH',
        path: `${HP}/${(doc as KubeObject).metadata.name}`,
        query: { fieldManager: 'argocd-controller', fieldValidation: 'Strict' },
        contentType: 'application/apply-patch+yaml',
        body: doc,
      });
    }
    assert.equal(threshold(await getPolicy(admin, name('a'))), 3);
    engine = await startEngineProcess({
      name: `${ns}-readonly`,
      kubeconfigPath,
      namespace: ns,
      args: ['--apply=false'],
    });
    await eventually(async () => assert.equal((await fetch(`${engine!.url}/readyz`)).status, 200), {
      what: 'read-only engine ready',
    });
    await eventually(
      async () =>
        assert.ok(
          (await engine!.logLines()).some(
            (l) => l.msg === 'HealthPolicies loaded from the cluster' && Number(l.policies) >= 2,
          ),
        ),
      { what: 'policies read' },
    );
    await repo.commit({ 'policies/a.yaml': policyYaml(name('a'), ns, 5) });
    // Read-only: no source manager runs at all (not even a fetch), so nothing can be written.
    assert.equal(await metricValue(engine.url, 'bulkhead_source_reconcile_duration_seconds_count'), 0);
    assert.equal(await metricValue(engine.url, 'bulkhead_source_triggers_total'), 0);
    for (const verb of ['PATCH', 'DELETE', 'POST', 'PUT'])
      assert.equal(
        await metricValue(engine.url, 'bulkhead_kube_request_duration_seconds_count', { verb }),
        0,
        `no ${verb}`,
      );
    assert.equal((await getSource(admin, source)).status, undefined, 'no status written');
    assert.equal(threshold(await getPolicy(admin, name('a'))), 3, 'git change not applied by the read-only engine');
    await engine.stop();
    engine = undefined;
  });

  it('apply mode never forces another field manager: the conflict is reported in status', async () => {
    const before = await getPolicy(admin, name('a'));
    engine = await startEngineProcess({ name: `${ns}-apply`, kubeconfigPath, namespace: ns });
    const s = await eventually(
      async () => {
        const s = await getSource(admin, source);
        assert.equal(ready(s).reason, 'ApplyConflict', JSON.stringify(s.status));
        return s;
      },
      { timeoutMs: 30_000, what: 'conflict reported' },
    );
    assert.equal(ready(s).status, 'False');
    assert.match(ready(s).message ?? '', /argocd-controller/);
    assert.equal(
      (await getPolicy(admin, name('a')))?.metadata.resourceVersion,
      before?.metadata.resourceVersion,
      'not taken',
    );
    assert.equal(threshold(await getPolicy(admin, name('a'))), 3);
    await engine.stop();
    engine = undefined;
  });

  it('--force-conflicts takes ownership and applies git', async () => {
    engine = await startEngineProcess({
      name: `${ns}-force`,
      kubeconfigPath,
      namespace: ns,
      args: ['--force-conflicts'],
    });
    const head = await repo.head();
    await eventually(
      async () => {
        const s = await getSource(admin, source);
        assert.equal(ready(s).status, 'True', JSON.stringify(s.status));
        assert.equal(s.status?.lastAppliedRevision, head);
      },
      { timeoutMs: 30_000, what: 'forced apply' },
    );
    assert.equal(threshold(await getPolicy(admin, name('a'))), 5);
  });

  it('plan against the synced cluster: exit 0; local edits → exit 3 with field diff and prune in markdown; invalid → exit 1', async () => {
    const clean = await plan(repo.workDir);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /0 to create, 0 to update, 0 to prune, 2 unchanged/);

    const dir = await mkdtemp(join(tmpdir(), 'bulkhead-plan-checkout-'));
    try {
      await cp(repo.workDir, dir, { recursive: true });
      await writeFile(join(dir, 'policies/a.yaml'), policyYaml(name('a'), ns, 8));
      await unlink(join(dir, 'policies/b.yaml'));
      await writeFile(join(dir, 'policies/c.yaml'), policyYaml(name('c'), ns, 2));
      const md = await plan(dir, '--output', 'markdown');
      assert.equal(md.code, 3, md.stderr);
      assert.match(md.stdout, /### Bulkhead plan/);
      assert.match(
        md.stdout,
        /\| ~ \| HealthPolicy\/[a-z0-9-]+-a \| update<br>`\.spec\.detect\.rules\[0\]\.threshold`: 5 → 8 \|/,
      );
      assert.match(md.stdout, /\| - \| HealthPolicy\/[a-z0-9-]+-b \| prune/);
      assert.match(md.stdout, /\| \+ \| HealthPolicy\/[a-z0-9-]+-c \| create/);
      const human = await plan(dir);
      assert.match(human.stdout, /1 to create, 1 to update, 1 to prune, 0 unchanged/);
      assert.equal(await getPolicy(admin, name('c')), undefined, 'plan wrote nothing');
      assert.ok(await getPolicy(admin, name('b')), 'plan pruned nothing');

      await writeFile(
        join(dir, 'policies/c.yaml'),
        policyYaml(name('c'), ns, 2).replace('type: Alert', 'type: Explode'),
      );
      const bad = await plan(dir);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /policies\/c\.yaml:\d+:\d+: error BH_/);
      // A git URL works too (fetched into a temp folder).
      const byUrl = await plan(repo.url, '--output', 'json');
      assert.equal(byUrl.code, 0, byUrl.stderr);
      assert.equal((JSON.parse(byUrl.stdout) as { revision: string }).revision, await repo.head());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
