// `bulkhead plan` lists the pods that already run in namespaces a policy would select: they get
// no sidecar until recreated (and with rollout: Restart the engine restarts their workload).
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { getCluster, newNamespace } from '../harness/index.js';
import { policyYaml } from './support/gitops.js';
import { runDeployment } from './support/quarantine-fixtures.js';

const run = promisify(execFile);

describe('bulkhead plan: existing pods without the sidecar', function () {
  this.timeout(120_000);
  it('lists them with their policy, workload and rollout setting (json and human)', async () => {
    const kc = getCluster().kubeConfig();
    const ns = await newNamespace('plan-pods');
    const pods = await runDeployment(kc, ns, 'legacy', 2);
    const dir = await mkdtemp(join(tmpdir(), 'bh-plan-pods-'));
    try {
      await mkdir(join(dir, 'policies'));
      await writeFile(join(dir, 'policies', 'p.yaml'), `${policyYaml(`${ns}-p`, ns, 3)}\n  rollout: Restart\n`);
      const args = [
        'bin/bulkhead.js',
        'plan',
        '--source',
        dir,
        '--kubeconfig',
        getCluster().kubeconfigPath,
        '--source-name',
        `${ns}-src`,
      ];
      const json = await run(process.execPath, [...args, '--output', 'json']).catch(
        (e: { stdout: string; code: number }) => e,
      );
      const out = JSON.parse(json.stdout) as {
        awaitingSidecar: { namespace: string; pod: string; policy: string; workload: string; rollout: string }[];
      };
      const mine = out.awaitingSidecar.filter((a) => a.namespace === ns);
      assert.deepEqual(mine.map((a) => a.pod).sort(), pods.map((p) => p.metadata!.name!).sort());
      assert.ok(
        mine.every((a) => a.policy === `${ns}-p` && a.workload === 'Deployment/legacy' && a.rollout === 'Restart'),
      );
      const human = await run(process.execPath, args).catch((e: { stdout: string }) => e);
      assert.match(human.stdout, /Existing pods without the sidecar/);
      assert.match(
        human.stdout,
        new RegExp(`${ns}/${pods[0]!.metadata!.name}\\s+policy ${ns}-p\\s+Deployment/legacy\\s+rollout: Restart`),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
