// `bulkhead plan` lists the pods that already run in namespaces a policy would select: they get
// no sidecar until recreated (and with rollout: Restart the engine restarts their workload).
// It also says which admission path a new pod takes (issue 17): what is registered now.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { getCluster, newNamespace } from '../harness/index.js';
import { WEBHOOK_NAMES } from '../../engine/src/admission/index.js';
import { startTestAdmission, type TestAdmission } from './support/admission-harness.js';
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
    // Each path registered under the engine's names in turn (no policies: nothing is injected).
    let hook: TestAdmission | undefined;
    const register = async (mode: 'policy' | 'webhook'): Promise<void> => {
      await hook?.cleanup();
      hook = await startTestAdmission({
        engineNamespace: await newNamespace('bh-engine'),
        policies: [],
        names: WEBHOOK_NAMES,
        mode,
      });
    };
    try {
      await register('policy');
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
        admissionPath: { path: string; why: string };
        awaitingSidecar: {
          namespace: string;
          pod: string;
          policy: string;
          workload: string;
          rollout: string;
          path: string;
        }[];
      };
      assert.equal(out.admissionPath.path, 'policy');
      assert.match(out.admissionPath.why, /MutatingAdmissionPolicy bulkhead-inject is registered/);
      const mine = out.awaitingSidecar.filter((a) => a.namespace === ns);
      assert.deepEqual(mine.map((a) => a.pod).sort(), pods.map((p) => p.metadata!.name!).sort());
      assert.ok(
        mine.every(
          (a) =>
            a.policy === `${ns}-p` &&
            a.workload === 'Deployment/legacy' &&
            a.rollout === 'Restart' &&
            a.path === 'policy',
        ),
      );
      await register('webhook');
      const human = await run(process.execPath, args).catch((e: { stdout: string }) => e);
      assert.match(human.stdout, /Existing pods without the sidecar/);
      assert.match(
        human.stdout,
        new RegExp(
          `${ns}/${pods[0]!.metadata!.name}\\s+policy ${ns}-p\\s+Deployment/legacy\\s+rollout: Restart\\s+path: webhook`,
        ),
      );
      assert.match(human.stdout, /Admission path for new pods: webhook \(MutatingWebhookConfiguration bulkhead-inject/);
    } finally {
      await hook?.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
