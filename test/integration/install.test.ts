// Issue 8, items 1 and 2: deploy/ renders with kustomize and every object is accepted by the
// real apiserver; `bulkhead install` (a real child process, admin kubeconfig) applies it and
// waits until the engine Deployment is Available; `bulkhead uninstall` removes the webhook
// configurations before the engine and leaves none behind. Both run twice (idempotent).
//
// Honest limits: kwok plays the kubelet here. It schedules the engine's pods on fake nodes and
// marks them Running and Ready by its stages; no container runtime pulls the image or runs
// `bulkhead run`, and no readiness probe is really called. So "reaches Ready" proves that
// deploy/ is accepted as a whole, that RBAC, ServiceAccount, Deployment, PDB and Service fit
// together, and that install waits for the Deployment's rollout, not that the image starts.
// The engine process itself, under exactly this RBAC, is covered by the gitops-* tests.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Watch } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import {
  DEFAULT_MANIFEST_DIR,
  ENGINE,
  objectKey,
  renderKustomization,
} from '../../engine/src/cli/install/manifests.js';
import { serverSideApply } from '../../engine/src/core/kube/apply.js';
import { KubeClient, isNotFound } from '../../engine/src/core/kube/client.js';
import { ResourceResolver, type KubeObject } from '../../engine/src/core/kube/resources.js';
import {
  WEBHOOK_NAMES,
  buildMutatingWebhookConfiguration,
  buildValidatingWebhookConfiguration,
} from '../../engine/src/admission/webhook-config.js';
import { isolationNetworkPolicy } from '../../engine/src/quarantine/actions/isolation-policy.js';
import { ADMIN_POLICY_NAME, adminNetworkPolicy } from '../../engine/src/quarantine/isolation/admin-network-policy.js';
import { serveAdminNetworkPolicyApi } from '../harness/admin-network-policy-api.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';

const execFileP = promisify(execFile);
const SOURCE = 'install-test';
const REPO = 'https://git.example.invalid/platform/policies.git'; // never fetched: no engine runs on kwok

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileP(
      process.execPath,
      ['bin/bulkhead.js', ...args, '--kubeconfig', getCluster().kubeconfigPath],
      { timeout: 240_000, maxBuffer: 4 << 20 },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const show = (r: CliResult): string => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

describe('bulkhead install / uninstall on the real control plane', function () {
  this.timeout(300_000);
  let client: KubeClient;
  let resolver: ResourceResolver;

  const get = async <T = KubeObject>(path: string): Promise<T | undefined> => {
    try {
      return await client.request<T>({ method: 'GET', path });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const webhookPaths = [
    `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations`,
    `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations`,
  ];
  const bulkheadWebhooks = async (): Promise<string[]> => {
    const names: string[] = [];
    for (const p of webhookPaths) {
      const list = await client.request<{ items: KubeObject[] }>({ method: 'GET', path: p });
      for (const i of list.items)
        if (
          Object.values(WEBHOOK_NAMES).includes(i.metadata.name as never) ||
          i.metadata.labels?.['app.kubernetes.io/managed-by'] === 'bulkhead'
        )
          names.push(`${p.split('/').pop()}/${i.metadata.name}`);
    }
    return names;
  };

  before(() => {
    client = new KubeClient(getCluster().kubeConfig());
    resolver = new ResourceResolver(client);
  });

  after(async () => {
    // Never leave a dead fail-closed guard behind for the next test file, whatever happened.
    for (const [p, n] of [
      [webhookPaths[0], WEBHOOK_NAMES.mutating],
      [webhookPaths[1], WEBHOOK_NAMES.validating],
    ] as const) {
      await client.request({ method: 'DELETE', path: `${p}/${n}` }).catch(() => undefined);
    }
    client.close();
  });

  it('`kubectl kustomize deploy/` renders, and the in-process renderer yields exactly the same objects', async () => {
    const { stdout } = await execFileP(join(getCluster().binDir, 'kubectl'), ['kustomize', DEFAULT_MANIFEST_DIR], {
      maxBuffer: 8 << 20,
    });
    const fromKustomize = (loadAll(stdout) as KubeObject[]).filter(Boolean);
    const ours = (await renderKustomization(DEFAULT_MANIFEST_DIR)).map((r) => r.obj);
    const byKey = (xs: KubeObject[]): Map<string, KubeObject> => new Map(xs.map((x) => [objectKey(x), x]));
    assert.deepEqual([...byKey(ours).keys()].sort(), [...byKey(fromKustomize).keys()].sort());
    for (const [k, v] of byKey(fromKustomize))
      assert.deepEqual(byKey(ours).get(k), v, `${k} differs from kustomize's rendering`);
    const kinds = new Set(fromKustomize.map((o) => o.kind));
    for (const k of [
      'CustomResourceDefinition',
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'Deployment',
      'Service',
      'PodDisruptionBudget',
      'NetworkPolicy',
    ])
      assert.ok(kinds.has(k), `deploy/ renders no ${k}`);
  });

  it('every object of `kubectl kustomize deploy/` passes a server-side dry-run apply (fieldValidation=Strict)', async () => {
    const { stdout } = await execFileP(join(getCluster().binDir, 'kubectl'), ['kustomize', DEFAULT_MANIFEST_DIR], {
      maxBuffer: 8 << 20,
    });
    const objs = (loadAll(stdout) as KubeObject[]).filter(Boolean);
    // Namespaced objects can only be dry-run into a namespace that exists: the namespace
    // itself is applied for real (the install test below creates it anyway), all else dry.
    const ns = objs.find((o) => o.kind === 'Namespace');
    assert.ok(ns);
    await serverSideApply(client, resolver, ns);
    for (const o of objs) {
      const res = await serverSideApply(client, resolver, o, { dryRun: true });
      assert.equal(res.kind, o.kind);
      assert.equal(res.metadata.name, o.metadata.name);
    }
    // And the CLI's own dry run agrees, storing nothing.
    const before = await get<{ metadata: { resourceVersion: string } }>(
      `/apis/apps/v1/namespaces/${ENGINE.namespace}/deployments/${ENGINE.deployment}`,
    );
    const r = await cli('install', '--dry-run', '--repo', REPO, '--source-name', SOURCE);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Dry run passed/, show(r));
    const after = await get<{ metadata: { resourceVersion: string } }>(
      `/apis/apps/v1/namespaces/${ENGINE.namespace}/deployments/${ENGINE.deployment}`,
    );
    assert.deepEqual(after?.metadata.resourceVersion, before?.metadata.resourceVersion);
    assert.equal(
      await get(`/apis/bulkhead.dev/v1alpha1/policysources/${SOURCE}`),
      undefined,
      'a dry run stored the PolicySource',
    );
  });

  it('install reaches Ready and creates the PolicySource; a second install succeeds and changes nothing', async () => {
    // The harness already installed the CRDs (by POST, another field manager): install copes.
    const r1 = await cli(
      'install',
      '--repo',
      REPO,
      '--ref',
      'main',
      '--path',
      'clusters/prod',
      '--source-name',
      SOURCE,
      '--timeout',
      '3m',
    );
    assert.equal(r1.code, 0, show(r1));
    assert.match(r1.stdout, /✓ CRDs Established and served/, show(r1));
    assert.match(
      r1.stdout,
      /✓ engine Deployment bulkhead-system\/bulkhead-engine Available: 2\/2 replicas ready \(\d+\.\ds\)/,
      show(r1),
    );
    assert.match(r1.stdout, /Bulkhead is installed and Ready/, show(r1));
    assert.match(r1.stdout, /Next:/, show(r1));

    const dep = await get<{ status: { readyReplicas?: number; availableReplicas?: number } }>(
      `/apis/apps/v1/namespaces/${ENGINE.namespace}/deployments/${ENGINE.deployment}`,
    );
    assert.equal(dep?.status.readyReplicas, 2);
    assert.equal(dep?.status.availableReplicas, 2);
    const pods = await client.request<{
      items: {
        spec: { nodeName?: string; serviceAccountName?: string };
        status: { phase?: string; conditions?: { type: string; status: string }[] };
      }[];
    }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ENGINE.namespace}/pods`,
      query: { labelSelector: 'app.kubernetes.io/name=bulkhead,app.kubernetes.io/component=engine' },
    });
    assert.equal(pods.items.length, 2);
    for (const p of pods.items) {
      assert.equal(p.status.phase, 'Running');
      assert.ok(p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      assert.match(p.spec.nodeName ?? '', /^kwok-node-/, 'scheduled on a kwok node');
      assert.equal(p.spec.serviceAccountName, 'bulkhead-engine');
    }
    const src = await get<{ spec: unknown; metadata: { managedFields: { manager: string }[] } }>(
      `/apis/bulkhead.dev/v1alpha1/policysources/${SOURCE}`,
    );
    assert.deepEqual(src?.spec, {
      url: REPO,
      ref: { branch: 'main' },
      path: 'clusters/prod',
      interval: '1m',
      recordsPath: 'records',
      suspend: false,
    });
    assert.ok(
      src?.metadata.managedFields.some((m) => m.manager === 'bulkhead'),
      'applied with field manager bulkhead',
    );

    // The dashboard token Secret the Deployment mounts: created once, strong, kept by a re-run.
    const tokenOf = async (): Promise<string | undefined> =>
      (await get<{ data: { token: string } }>(`/api/v1/namespaces/${ENGINE.namespace}/secrets/bulkhead-dashboard`))
        ?.data.token;
    const token = await tokenOf();
    assert.ok(token && Buffer.from(token, 'base64').toString('utf8').length >= 32, 'no strong dashboard token');

    const r2 = await cli(
      'install',
      '--repo',
      REPO,
      '--ref',
      'main',
      '--path',
      'clusters/prod',
      '--source-name',
      SOURCE,
      '--timeout',
      '3m',
    );
    assert.equal(r2.code, 0, show(r2));
    assert.doesNotMatch(r2.stdout, /created|configured/, show(r2));
    assert.match(r2.stdout, /✓ CustomResourceDefinitions \(3\): 3 unchanged/, show(r2));
    assert.match(
      r2.stdout,
      /✓ namespace, RBAC, Service and network policy \(\d+ objects\): \d+ unchanged \(/,
      show(r2),
    );
    assert.match(r2.stdout, /✓ engine Deployment bulkhead-system\/bulkhead-engine: 1 unchanged \(/, show(r2));
    assert.match(r2.stdout, /Bulkhead is installed and Ready/, show(r2));
    assert.equal(await tokenOf(), token, 'a re-install replaced the dashboard token');
  });

  it('with the guard registered, install re-runs without writing the PolicySource; uninstall removes the webhook configurations before the engine, leaves none behind; a second run is idempotent', async () => {
    // Make sure the engine is installed (also when this test runs alone with --grep).
    const inst = await cli('install', '--timeout', '3m');
    assert.equal(inst.code, 0, show(inst));
    await serverSideApply(client, resolver, {
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'PolicySource',
      metadata: { name: SOURCE },
      spec: { url: REPO },
    });
    // The webhook configurations exactly as the engine registers them (the real generator):
    // pointing at the engine's Service, which no real engine backs here.
    const endpoint = { service: { namespace: ENGINE.namespace, name: ENGINE.deployment, port: 8443 } };
    const policies = [{ metadata: { name: 'shop' }, spec: { match: { namespaces: ['shop'] } } }];
    for (const cfg of [
      buildMutatingWebhookConfiguration(policies, { engineNamespace: ENGINE.namespace, endpoint }),
      buildValidatingWebhookConfiguration({ engineNamespace: ENGINE.namespace, endpoint }),
    ]) {
      await serverSideApply(client, resolver, cfg as unknown as KubeObject);
    }
    const registered = await bulkheadWebhooks();
    for (const n of [
      `mutatingwebhookconfigurations/${WEBHOOK_NAMES.mutating}`,
      `validatingwebhookconfigurations/${WEBHOOK_NAMES.validating}`,
    ])
      assert.ok(registered.includes(n), `${n} not registered: ${registered.join(', ')}`);
    // The guard fails closed: while it points at a dead engine, Bulkhead objects cannot be written.
    const touch = () =>
      client.request({
        method: 'PATCH',
        path: `/apis/bulkhead.dev/v1alpha1/policysources/${SOURCE}`,
        body: { metadata: { labels: { touched: 'yes' } } },
        contentType: 'application/merge-patch+json',
      });
    await eventually(() => assert.rejects(touch(), /failed calling webhook|guard\.bulkhead\.dev/), {
      what: 'the dead guard to refuse writes',
    });
    // Re-running install with the guard in place: a PolicySource that would not change is not
    // written at all (even a no-op apply passes admission), so the re-run still succeeds...
    const again = await cli('install', '--repo', REPO, '--source-name', SOURCE, '--timeout', '2m');
    assert.equal(again.code, 0, show(again));
    assert.match(again.stdout, /✓ PolicySource install-test → \S+: 1 unchanged/, show(again));
    // ...while a real change goes to the guard, which refuses it: exit 1, nothing changed.
    const change = await cli('install', '--repo', REPO, '--ref', 'release', '--source-name', SOURCE, '--timeout', '2m');
    assert.equal(change.code, 1, show(change));
    assert.match(change.stdout, /✗ PolicySource install-test .*failed calling webhook/, show(change));

    // Record deletions as they happen: the etcd revision (resourceVersion) of each DELETED
    // event orders them across resources (one etcd behind one apiserver here).
    const deletedAt = new Map<string, number>();
    const watch = new Watch(getCluster().kubeConfig());
    const paths = [...webhookPaths, `/apis/apps/v1/namespaces/${ENGINE.namespace}/deployments`];
    const aborts = await Promise.all(
      paths.map((p) =>
        watch.watch(
          p,
          {},
          (type: string, obj: KubeObject) => {
            if (type === 'DELETED')
              deletedAt.set(`${obj.kind}/${obj.metadata.name}`, Number(obj.metadata.resourceVersion));
          },
          () => undefined,
        ),
      ),
    );
    // What a running engine leaves in a workload namespace (the real generators): the
    // isolation NetworkPolicy and the sidecars' CA ConfigMap; and a NetworkPolicy synced from
    // git (policy-source label), which belongs to the repository and must stay.
    const work = await newNamespace('bh-install-sweep');
    await serverSideApply(client, resolver, isolationNetworkPolicy(work) as unknown as KubeObject);
    await serverSideApply(client, resolver, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'bulkhead-ca',
        namespace: work,
        labels: { 'app.kubernetes.io/managed-by': 'bulkhead', 'app.kubernetes.io/component': 'admission' },
      },
      data: { 'ca.crt': 'x' },
    } as KubeObject);
    await serverSideApply(client, resolver, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name: 'from-git',
        namespace: work,
        labels: { 'app.kubernetes.io/managed-by': 'bulkhead', 'bulkhead.dev/policy-source': 'platform' },
      },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    } as KubeObject);
    // Where the cluster serves the network policy API, the engine's cluster-wide quarantine deny
    // (the real generator) outlives its namespace: uninstall takes it away too.
    const stopServingAnp = await serveAdminNetworkPolicyApi(client);
    await eventually(() => serverSideApply(client, resolver, adminNetworkPolicy() as unknown as KubeObject), {
      what: 'AdminNetworkPolicy applied',
    });
    try {
      const u1 = await cli('uninstall', '--timeout', '3m');
      assert.equal(u1.code, 0, show(u1));
      const lines = u1.stdout.split('\n');
      const webhookLine = lines.findIndex((l) => l.includes('✓ webhook configurations removed'));
      const engineLine = lines.findIndex((l) => l.includes('✓ engine stopped'));
      assert.ok(webhookLine >= 0 && engineLine > webhookLine, show(u1));
      assert.match(lines[webhookLine] ?? '', /MutatingWebhookConfiguration\/bulkhead-inject/);
      assert.match(lines[webhookLine] ?? '', /ValidatingWebhookConfiguration\/bulkhead-guard/);
      // Other test files' Quarantines may share the cluster: only the PolicySource count is ours.
      assert.match(u1.stdout, /Kept the CRDs and (\d+ \w+, )*1 policysources/, show(u1));

      const order = await eventually(
        () => {
          const m = deletedAt.get(`MutatingWebhookConfiguration/${WEBHOOK_NAMES.mutating}`);
          const v = deletedAt.get(`ValidatingWebhookConfiguration/${WEBHOOK_NAMES.validating}`);
          const d = deletedAt.get(`Deployment/${ENGINE.deployment}`);
          if (m === undefined || v === undefined || d === undefined)
            throw new Error(`deletions seen so far: ${JSON.stringify([...deletedAt])}`);
          return { m, v, d };
        },
        { what: 'DELETED events of both webhook configurations and the Deployment' },
      );
      assert.ok(order.m < order.d && order.v < order.d, `webhooks deleted after the engine: ${JSON.stringify(order)}`);
      assert.match(u1.stdout, /AdminNetworkPolicy\/bulkhead-quarantine/, show(u1));
      assert.equal(
        await get(`/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies/${ADMIN_POLICY_NAME}`),
        undefined,
        'the cluster-wide quarantine deny is left',
      );
    } finally {
      for (const a of aborts) a.abort();
      await stopServingAnp();
    }

    assert.deepEqual(await bulkheadWebhooks(), [], 'a Bulkhead webhook configuration is left');
    assert.equal(
      await get(`/apis/networking.k8s.io/v1/namespaces/${work}/networkpolicies/bulkhead-quarantine`),
      undefined,
    );
    assert.equal(await get(`/api/v1/namespaces/${work}/configmaps/bulkhead-ca`), undefined);
    assert.ok(
      await get(`/apis/networking.k8s.io/v1/namespaces/${work}/networkpolicies/from-git`),
      'a git-synced object was swept',
    );
    assert.equal(await get(`/api/v1/namespaces/${ENGINE.namespace}`), undefined, 'the engine namespace is left');
    assert.equal(
      await get('/apis/rbac.authorization.k8s.io/v1/clusterroles/bulkhead-engine'),
      undefined,
      'the ClusterRole is left',
    );
    assert.equal(await get('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/bulkhead-engine'), undefined);
    assert.equal(
      await get('/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/bulkhead-engine-events'),
      undefined,
    );
    assert.ok(
      await get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/policysources.bulkhead.dev'),
      'CRDs are kept without --crds',
    );
    // Nothing calls a dead webhook any more: the same write now goes through.
    await touch();

    const u2 = await cli('uninstall', '--timeout', '1m');
    assert.equal(u2.code, 0, show(u2));
    assert.match(u2.stdout, /✓ webhook configurations removed: none found/, show(u2));
    assert.match(u2.stdout, /✓ engine stopped: no engine Deployment found/, show(u2));
    assert.match(u2.stdout, /✓ engine namespace, RBAC and network policy removed: 0 deleted/, show(u2));
  });

  it('uninstall --crds also removes the CRDs (and the custom resources); install brings them back', async () => {
    const u = await cli('uninstall', '--crds', '--timeout', '2m');
    assert.equal(u.code, 0, show(u));
    for (const n of ['healthpolicies', 'policysources', 'quarantines'])
      assert.equal(
        await get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${n}.bulkhead.dev`),
        undefined,
        `${n} CRD left`,
      );
    // Put the cluster back as the harness had it (CRDs served) for the test files after this one.
    const i = await cli('install', '--timeout', '3m');
    assert.equal(i.code, 0, show(i));
    assert.match(i.stdout, /✓ CustomResourceDefinitions \(3\): 3 created/, show(i));
    const u2 = await cli('uninstall', '--timeout', '2m');
    assert.equal(u2.code, 0, show(u2));
    const crd = await get<{ status?: { conditions?: { type: string; status: string }[] } }>(
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/policysources.bulkhead.dev',
    );
    assert.ok(crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'));
    await eventually(() => client.request({ method: 'GET', path: '/apis/bulkhead.dev/v1alpha1/policysources' }), {
      what: 'PolicySources served again',
    });
  });

  it('exit codes: 1 when the apiserver rejects an object, 0 with a JSON result when it accepts it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bh-install-bad-'));
    try {
      await writeFile(join(dir, 'kustomization.yaml'), 'resources: [ps.yaml]\n');
      // A field the schema does not declare: server-side apply refuses it (it builds a typed
      // patch), where a client-side apply of a custom resource would have pruned it silently.
      const ps = (extra: string): string =>
        `apiVersion: bulkhead.dev/v1alpha1\nkind: PolicySource\nmetadata: {name: bh-install-strict}\nspec: {url: ${REPO}${extra}}\n`;
      await writeFile(join(dir, 'ps.yaml'), ps(', branch: main'));
      const r = await cli('install', '--manifests', dir, '--dry-run', '-o', 'json');
      assert.equal(r.code, 1, show(r));
      assert.match(
        r.stderr,
        /✗ namespace, RBAC, Service and network policy.*PolicySource\/bh-install-strict.*\.spec\.branch: field not declared in schema/,
        show(r),
      );
      await writeFile(join(dir, 'ps.yaml'), ps(''));
      const ok = await cli('install', '--manifests', dir, '--dry-run', '-o', 'json');
      assert.equal(ok.code, 0, show(ok));
      const result = JSON.parse(ok.stdout) as { dryRun: boolean; applied: { key: string; outcome: string }[] };
      assert.deepEqual(result, {
        dryRun: true,
        applied: [{ key: 'PolicySource/bh-install-strict', outcome: 'created' }],
      });
      assert.equal(
        await get('/apis/bulkhead.dev/v1alpha1/policysources/bh-install-strict'),
        undefined,
        'a dry run stored the object',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exit codes: 2 without a reachable cluster, 2 on a usage error', async () => {
    const { stdout, code } = await execFileP(
      process.execPath,
      ['bin/bulkhead.js', 'install', '--kubeconfig', '/nonexistent/kubeconfig'],
      { timeout: 60_000 },
    ).then(
      (x) => ({ ...x, code: 0 }),
      (e: { code: number; stdout: string }) => e,
    );
    assert.equal(code, 2, stdout);
    const r = await cli('install', '--ref', 'main');
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /pass --repo too/);
  });
});
