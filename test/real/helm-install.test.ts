// Issue 19 on real nodes: the Helm chart installs the engine as the CLI does (the project's
// images, 2 replicas, the private policy repository over HTTPS), the engine becomes Available
// and syncs, `helm test` passes (its pod really asks the engine's Service for /readyz), and
// `helm uninstall` (its pre-delete hook Job really runs `bulkhead uninstall --leave-manifests`
// in the engine image) leaves no webhook configuration, NetworkPolicy or RBAC of Bulkhead's.
// It replaces the shared `bulkhead install` for its duration and leaves the cluster without an
// engine; the next `installedEngine()` installs again, so files run in any order.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ENGINE_NAMESPACE,
  REPO_SECRET,
  SOURCE_NAME,
  installedEngine,
  showCli,
  uninstallInstalledEngine,
} from './support/installed-engine.js';
import { ADMISSION_KINDS, leftovers } from './support/leftovers.js';
import { getRealCluster } from './support/state.js';

const run = promisify(execFile);

describe('real nodes: the Helm chart', function () {
  this.timeout(1_200_000);
  let tmp: string;
  let helmBin: string;

  const helm = async (...args: string[]): Promise<{ code: number; out: string }> => {
    try {
      const { stdout, stderr } = await run(helmBin, [...args, '--kubeconfig', getRealCluster().kubeconfigPath], {
        maxBuffer: 16 << 20,
        timeout: 600_000,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: tmp,
          HELM_CACHE_HOME: join(tmp, 'cache'),
          HELM_CONFIG_HOME: join(tmp, 'config'),
          HELM_DATA_HOME: join(tmp, 'data'),
        },
      });
      return { code: 0, out: `${stdout}\n${stderr}` };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}\n${e.stderr ?? ''}` };
    }
  };

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'bh-real-helm-'));
    const { stdout } = await run('bash', ['local-cluster/build-helm.sh'], { maxBuffer: 1 << 20, timeout: 1_200_000 });
    helmBin = stdout.trim().split('\n').at(-1)!;
  });
  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('helm install reaches Available and syncs; helm test passes; helm uninstall leaves no webhook configuration', async () => {
    const engine = await installedEngine();
    const k = engine.kubectlOk.bind(engine);
    // The repository credentials the CLI install was given, to give them to the chart the same way.
    const secret = JSON.parse(await k(['get', 'secret', REPO_SECRET, '-n', ENGINE_NAMESPACE, '-o', 'json'])) as {
      data: Record<string, string>;
    };
    const ps = JSON.parse(await k(['get', 'policysource', SOURCE_NAME, '-o', 'json'])) as {
      spec: { url: string; interval?: string };
    };
    const u = await uninstallInstalledEngine();
    assert.equal(u.code, 0, showCli(u));
    // The CRDs stay (uninstall without --crds), and so does the PolicySource: not Helm's to adopt.
    await k(['delete', 'policysource', SOURCE_NAME, '--wait']);

    // The README's Helm install of a private repository: namespace and Secret first.
    await k(['create', 'namespace', ENGINE_NAMESPACE]);
    await k(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: REPO_SECRET, namespace: ENGINE_NAMESPACE },
        data: secret.data,
      }),
    });
    const inst = await helm(
      'install',
      'bulkhead',
      'charts/bulkhead',
      '--namespace',
      ENGINE_NAMESPACE,
      '--create-namespace',
      '--set',
      `policySource.url=${ps.spec.url}`,
      '--set',
      'policySource.ref.branch=main',
      '--set',
      `policySource.secret=${REPO_SECRET}`,
      '--set',
      `policySource.interval=${ps.spec.interval ?? '5s'}`,
      '--wait',
      '--timeout',
      '5m',
    );
    assert.equal(inst.code, 0, `${inst.out}\n--- engine logs\n${await engine.logs()}`);
    const dep = JSON.parse(await k(['get', 'deploy', 'bulkhead-engine', '-n', ENGINE_NAMESPACE, '-o', 'json'])) as {
      status: { availableReplicas?: number };
    };
    assert.equal(dep.status.availableReplicas, 2);
    // The engine syncs the repository it was given and registers its webhooks, as after the CLI's install.
    const head = await engine.repo.push({ 'notes/helm.md': 'installed with the Helm chart\n' }, 'helm install');
    await engine.repo.waitSynced(head, 180_000);
    // The shipped default on this 1.36 cluster is the policy path (ADR 1700): the injection
    // policy, the guard and the injection's warnings, each with its binding.
    assert.equal((await leftovers(ADMISSION_KINDS)).length, 6);

    // The test pod exits 0 only when the engine's Service answered /readyz with 200 (Helm deletes
    // it once it succeeded, so its log is gone; Phase is what Helm reports).
    const test = await helm('test', 'bulkhead', '--namespace', ENGINE_NAMESPACE, '--timeout', '3m');
    assert.equal(test.code, 0, test.out);
    assert.match(test.out, /TEST SUITE:\s+bulkhead-test-engine-ready[\s\S]*Phase:\s+Succeeded/, test.out);

    const un = await helm('uninstall', 'bulkhead', '--namespace', ENGINE_NAMESPACE, '--wait', '--timeout', '5m');
    assert.equal(un.code, 0, un.out);
    assert.deepEqual(await leftovers(ADMISSION_KINDS), []);
    assert.deepEqual(await leftovers('networkpolicies'), []);
    assert.deepEqual(await leftovers('clusterroles,clusterrolebindings,roles,rolebindings'), []);
    // Helm does not delete the namespace --create-namespace made: the user does, as the next install expects none.
    await k(['delete', 'namespace', ENGINE_NAMESPACE, '--wait', '--timeout=3m'], { timeoutMs: 200_000 });
  });
});
