// `bulkhead run --dir`: a local checkout as a source (development), watched with chokidar:
// save → applied, edit → updated, delete → pruned. Same reconciler and RBAC as git sources.
import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeClient } from '../../engine/src/core/kube/client.js';
import type { KubeObject } from '../../engine/src/core/kube/resources.js';
import { eventually, newNamespace } from '../harness/index.js';
import { installEngineRbac, startEngineProcess, type EngineProcess } from '../harness/engine-process.js';
import { adminClient, deleteQuietly, getPolicy, HP, policyYaml } from './support/gitops.js';

const threshold = (o: KubeObject | undefined): number =>
  (o?.spec as { detect: { rules: { threshold: number }[] } }).detect.rules[0]!.threshold;

describe('GitOps local folder source (bulkhead run --dir)', function () {
  this.timeout(60_000);
  let ns: string;
  let dir: string;
  let admin: KubeClient;
  let engine: EngineProcess;
  const name = (p: string): string => `${ns}-${p}`;

  before(async () => {
    admin = adminClient();
    ns = await newNamespace('localdir');
    const { kubeconfigPath } = await installEngineRbac(ns);
    dir = await mkdtemp(join(tmpdir(), 'bulkhead-local-policies-'));
    await mkdir(join(dir, 'policies'));
    await writeFile(join(dir, 'policies', 'a.yaml'), policyYaml(name('a'), ns, 3));
    engine = await startEngineProcess({
      name: `${ns}-dev`,
      kubeconfigPath,
      namespace: ns,
      args: ['--dir', dir, '--dir-source-name', `local-${ns}`],
    });
  });
  after(async () => {
    await engine?.stop();
    for (const p of ['a', 'b']) await deleteQuietly(admin, `${HP}/${name(p)}`);
    await rm(dir, { recursive: true, force: true });
    admin.close();
  });

  it('applies the folder, then follows saves: add, edit, delete', async () => {
    await eventually(async () => assert.equal(threshold(await getPolicy(admin, name('a'))), 3), {
      what: 'initial apply',
    });
    // Ready once the first sync of the folder is done, which finishes just after its apply.
    await eventually(async () => assert.equal((await fetch(`${engine.url}/readyz`)).status, 200), { what: 'ready' });
    await writeFile(join(dir, 'policies', 'b.yaml'), policyYaml(name('b'), ns, 4));
    await writeFile(join(dir, 'policies', 'a.yaml'), policyYaml(name('a'), ns, 6));
    await eventually(
      async () => {
        assert.equal(threshold(await getPolicy(admin, name('a'))), 6);
        assert.equal(threshold(await getPolicy(admin, name('b'))), 4);
      },
      { what: 'edit and add applied' },
    );
    await unlink(join(dir, 'policies', 'b.yaml'));
    await eventually(async () => assert.equal(await getPolicy(admin, name('b')), undefined), { what: 'pruned' });
    assert.ok(await getPolicy(admin, name('a')));
  });
});
