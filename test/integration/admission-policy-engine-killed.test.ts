// Issue 17, must show: the engine process killed (SIGKILL, no shutdown of any kind) in policy
// mode. One `bulkhead run` as deploy/ runs it (--https, deploy/rbac, its HealthPolicy from a
// real git repository), the apiserver injecting and guarding by the MutatingAdmissionPolicy
// and ValidatingAdmissionPolicy it generated. With the process gone: a new pod is still stored
// with the sidecar, an admin's edit of the git-managed policy is still refused with the
// webhook's message, and the engine's own identity and the break-glass group still write.
import { strict as assert } from 'node:assert';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { WEBHOOK_NAMES } from '../../engine/src/admission/index.js';
import { issueCertificate } from '../../engine/src/core/pki.js';
import { KubeApiError, KubeClient } from '../../engine/src/core/kube/client.js';
import { RUN_DEFAULTS } from '../../engine/src/runtime/defaults.js';
import { renderKubeconfig } from '../../tools/local-cluster/index.js';
import { installEngineRbac, startEngineProcess, type EngineProcess } from '../harness/engine-process.js';
import { createTestRepo, type TestRepo } from '../harness/git-repo.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';
import {
  deleteWebhookConfigs,
  hasSidecar,
  readAdmissionObject,
  simplePod,
  waitUntilInjecting,
} from './support/admission-harness.js';
import { adminClient, createSource, deleteQuietly, getPolicy, HP, policyYaml, PS } from './support/gitops.js';

describe('admission policy path: the engine process killed, the apiserver still injects and guards', function () {
  this.timeout(120_000);
  let admin: KubeClient;
  let ns: string;
  let app: string;
  let repo: TestRepo;
  let engine: EngineProcess;
  let asEngine: KubeClient;
  let oncall: KubeClient;
  const name = (p: string): string => `${ns}-${p}`;
  const relabel = (c: KubeClient, value: string): Promise<unknown> =>
    c.request({
      method: 'PATCH',
      path: `${HP}/${name('web')}`,
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { edited: value } } },
    });

  before(async () => {
    admin = adminClient();
    ns = await newNamespace('bh-killed');
    app = await newNamespace('killed-app');
    const { kubeconfigPath, serviceAccount } = await installEngineRbac(ns);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    asEngine = new KubeClient(kc);
    assert.equal(serviceAccount, RUN_DEFAULTS.serviceAccount, 'the identity the guard lets through');
    // The on-call engineer: a member of the shipped break-glass group, allowed by RBAC to edit.
    const group = RUN_DEFAULTS.breakGlassGroups[0]!;
    const rbac = getCluster().kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({
      body: {
        metadata: { name: name('oncall') },
        rules: [{ apiGroups: ['bulkhead.dev'], resources: ['healthpolicies'], verbs: ['get', 'patch'] }],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: name('oncall') },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: name('oncall') },
        subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: group }],
      },
    });
    const cert = await issueCertificate(getCluster().ca, {
      commonName: 'oncall',
      organizations: [group],
      usage: 'client',
      validForDays: 1,
    });
    const oc = new KubeConfig();
    oc.loadFromString(
      renderKubeconfig({
        server: getCluster().server,
        caCert: getCluster().ca.cert,
        userName: 'oncall',
        user: { clientCert: cert.cert, clientKey: cert.key },
      }),
    );
    oncall = new KubeClient(oc);

    repo = await createTestRepo('bh-killed-');
    await repo.commit({ 'policies/web.yaml': policyYaml(name('web'), app) }, 'policy web');
    await createSource(admin, name('src'), { url: repo.url, ref: { branch: 'main' }, interval: '10m' });
    engine = await startEngineProcess({
      name: `${ns}-a`,
      kubeconfigPath,
      namespace: ns,
      args: ['--https', '127.0.0.1:0', '--webhook-url', 'listen', '--admission', 'policy'],
    });
    await eventually(async () => assert.ok(await getPolicy(admin, name('web'))), {
      timeoutMs: 30_000,
      what: 'policy synced from git',
    });
    await waitUntilInjecting(getCluster().kubeConfig().makeApiClient(CoreV1Api), app);
    await eventually(
      () =>
        assert.rejects(
          relabel(admin, 'warmup'),
          (e: unknown) => e instanceof KubeApiError && e.code === 403 && /managed in git/.test(e.message),
        ),
      { what: 'guard policy active', timeoutMs: 30_000 },
    );
  });

  after(async () => {
    await engine?.stop();
    // The policies outlive the engine by design: the test removes them (the guard first).
    await deleteWebhookConfigs(getCluster().kubeConfig(), WEBHOOK_NAMES);
    await deleteQuietly(admin, `${PS}/${name('src')}`);
    await deleteQuietly(admin, `${HP}/${name('web')}`);
    const rbac = getCluster().kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.deleteClusterRoleBinding({ name: name('oncall') }).catch(() => {});
    await rbac.deleteClusterRole({ name: name('oncall') }).catch(() => {});
    await repo?.remove();
    asEngine?.close();
    oncall?.close();
    admin?.close();
  });

  it('with the process killed: pods injected, the admin refused, the engine and break-glass admitted', async () => {
    const lines = await engine.logLines();
    assert.ok(lines.some((l) => l.msg === 'admission path' && l.mode === 'policy'));
    engine.kill('SIGKILL');
    assert.equal(await engine.exited, null, 'killed by the signal, no exit code');
    // Nothing removed the admission objects (no shutdown ran).
    await readAdmissionObject('MutatingAdmissionPolicyBinding', WEBHOOK_NAMES.mutating);
    await readAdmissionObject('ValidatingAdmissionPolicyBinding', WEBHOOK_NAMES.validating);

    const core = getCluster().kubeConfig().makeApiClient(CoreV1Api);
    const pod = await core.createNamespacedPod({ namespace: app, body: simplePod('after-kill') });
    assert.ok(hasSidecar(pod), 'stored with the sidecar');
    assert.equal(pod.metadata?.annotations?.['bulkhead.dev/admission-path'], 'policy');
    assert.equal(
      pod.spec?.initContainers
        ?.find((c) => c.name === 'bulkhead-sidecar')
        ?.env?.find((e) => e.name === 'BULKHEAD_POLICY')?.value,
      name('web'),
    );

    await assert.rejects(relabel(admin, 'by-admin'), (e: unknown) => {
      assert.ok(e instanceof KubeApiError && e.code === 403, String(e));
      assert.match(e.message, new RegExp(`managed in git: ${repo.url} policies/web.yaml; change it there`));
      return true;
    });
    await relabel(asEngine, 'by-engine');
    await relabel(oncall, 'by-oncall');
    const labels = (await getPolicy(admin, name('web')))?.metadata.labels ?? {};
    assert.equal(labels.edited, 'by-oncall');
  });
});
