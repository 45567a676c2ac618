// Issue 5, the admission server as its own process (`bulkhead admission serve`): it loads the
// HealthPolicies from the cluster, registers the webhooks only then, follows policy changes,
// and on SIGTERM stops serving while the configurations stay (pods keep being created).
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { serviceAccountKubeConfig } from '../../tools/local-cluster/index.js';
import { eventually, getCluster, newNamespace, registerLogFile } from '../harness/index.js';
import { deleteWebhookConfigs, hasSidecar, simplePod } from './support/admission-harness.js';

const HP = { group: 'bulkhead.dev', version: 'v1alpha1', plural: 'healthpolicies' };
const NAMES = { mutating: 'bulkhead-inject', validating: 'bulkhead-guard' };

describe('admission: `bulkhead admission serve` as a process', () => {
  let engineNs: string;
  let nsA: string;
  let nsB: string;
  let child: ChildProcess | undefined;
  let exited: Promise<number | null>;
  const role = `bulkhead-serve-test-${Date.now()}`;
  const kc = () => getCluster().kubeConfig();
  const policy = (name: string, ns: string): object => ({
    apiVersion: 'bulkhead.dev/v1alpha1',
    kind: 'HealthPolicy',
    metadata: { name, labels: { 'bulkhead.dev/test': 'admission-serve' } },
    spec: {
      match: { namespaces: [ns] },
      probe: { tcp: { port: 8080 } },
      detect: { rules: [{ type: 'ConsecutiveFailures', threshold: 3 }] },
      action: { type: 'Alert' },
    },
  });

  before(async () => {
    engineNs = await newNamespace('bh-engine');
    nsA = await newNamespace('serve-a');
    nsB = await newNamespace('serve-b');
    // A policy already in the cluster (applied from git) before the engine starts.
    await kc()
      .makeApiClient(CustomObjectsApi)
      .createClusterCustomObject({ ...HP, body: policy(`serve-a-${nsA}`, nsA) });
    const rbac = kc().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({
      body: {
        metadata: { name: role },
        rules: [{ apiGroups: ['bulkhead.dev'], resources: ['healthpolicies'], verbs: ['*'] }],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: role },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: [{ kind: 'ServiceAccount', name: 'bulkhead', namespace: engineNs }],
      },
    });

    const logFile = join(await mkdtemp(join(tmpdir(), 'bh-admission-')), 'admission.log');
    registerLogFile('bulkhead admission serve', logFile);
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'tools/cli.ts',
        'admission',
        'serve',
        '--kubeconfig',
        getCluster().kubeconfigPath,
        '--namespace',
        engineNs,
        '--service-account',
        'bulkhead',
        '--port',
        '0',
        '--log-level',
        'debug',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stderr!.pipe(createWriteStream(logFile));
    exited = new Promise((ok) => child!.once('exit', (code) => ok(code)));
    const started = await new Promise<{ url: string }>((ok, fail) => {
      let buf = '';
      child!.stdout!.setEncoding('utf8');
      child!.stdout!.on('data', (d: string) => {
        buf += d;
        if (buf.includes('\n')) ok(JSON.parse(buf.split('\n')[0]!) as { url: string });
      });
      void exited.then((code) => fail(new Error(`admission serve exited ${code} before listening; see ${logFile}`)));
    });
    assert.match(started.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await deleteWebhookConfigs(kc(), NAMES);
    const custom = kc().makeApiClient(CustomObjectsApi);
    for (const name of [`serve-a-${nsA}`, `serve-b-${nsB}`])
      await custom.deleteClusterCustomObject({ ...HP, name }).catch(() => {});
    const rbac = kc().makeApiClient(RbacAuthorizationV1Api);
    await rbac.deleteClusterRoleBinding({ name: role }).catch(() => {});
    await rbac.deleteClusterRole({ name: role }).catch(() => {});
  });

  it('registers the webhooks from the policies it loaded, and injects', async () => {
    const cfg = await kc()
      .makeApiClient(AdmissionregistrationV1Api)
      .readMutatingWebhookConfiguration({ name: NAMES.mutating });
    const scoped = (cfg.webhooks ?? [])
      .flatMap((w) => w.namespaceSelector?.matchExpressions ?? [])
      .filter((e) => e.operator === 'In');
    assert.ok(
      scoped.some((e) => e.values?.includes(nsA)),
      'scoped to the policy namespace',
    );
    const core = kc().makeApiClient(CoreV1Api);
    let n = 0;
    await eventually(
      async () =>
        assert.ok(hasSidecar(await core.createNamespacedPod({ namespace: nsA, body: simplePod(`a-${n++}`) }))),
      { what: 'pod in A injected', timeoutMs: 30_000 },
    );
  });

  it('follows a policy the engine applies later: the webhook scope and the injection both follow', async () => {
    const { kubeConfig } = await serviceAccountKubeConfig(kc(), getCluster(), engineNs, 'bulkhead');
    await eventually(
      () =>
        kubeConfig
          .makeApiClient(CustomObjectsApi)
          .createClusterCustomObject({ ...HP, body: policy(`serve-b-${nsB}`, nsB) }),
      { what: 'engine SA creates a policy' },
    );
    const core = kc().makeApiClient(CoreV1Api);
    let n = 0;
    await eventually(
      async () =>
        assert.ok(hasSidecar(await core.createNamespacedPod({ namespace: nsB, body: simplePod(`b-${n++}`) }))),
      { what: 'pod in B injected', timeoutMs: 30_000 },
    );
  });

  it('on SIGTERM stops serving and leaves the configurations: pods are still created (fail open)', async () => {
    child!.kill('SIGTERM');
    assert.equal(await exited, 0);
    const api = kc().makeApiClient(AdmissionregistrationV1Api);
    assert.ok(((await api.readMutatingWebhookConfiguration({ name: NAMES.mutating })).webhooks ?? []).length > 0);
    assert.ok(await api.readValidatingWebhookConfiguration({ name: NAMES.validating }));
    const t0 = Date.now();
    const p = await kc()
      .makeApiClient(CoreV1Api)
      .createNamespacedPod({ namespace: nsA, body: simplePod('after-stop') });
    assert.equal(hasSidecar(p), false);
    assert.ok(Date.now() - t0 < 5_500);
  });
});
