// Issue 19: the Helm chart (charts/bulkhead, generated from deploy/ by `npm run gen`) with the
// real Helm, built from Go modules (local-cluster/build-helm.sh): `helm lint`; the default
// render is `kubectl kustomize deploy/` object by object, plus the dashboard Secret `bulkhead
// install` creates; every value reaches the render; values.schema.json refuses bad values;
// `helm install` into the real control plane reaches the state `bulkhead install` reaches; and
// `helm uninstall` leaves no webhook configuration behind.
//
// Honest limits (kwok plays the kubelet, as in install.test.ts): no container runs. The engine
// pods are marked Ready by kwok's stages, so "Available" proves the objects fit together, not
// that the image starts. `helm test` is not run here: its pod would stay "Running" on kwok and
// never answer. The pre-delete hook's Job is marked Succeeded by kwok without running, so this
// test runs the hook's container arguments itself, as the hook's ServiceAccount with exactly
// the hook's RBAC (taken from the chart's render), before `helm uninstall`; then asserts
// `helm uninstall` completes and leaves no webhook configuration, engine object or runtime
// object behind.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadAll } from 'js-yaml';
import {
  ENGINE,
  objectKey,
  renderKustomization,
  DEFAULT_MANIFEST_DIR,
} from '../../engine/src/cli/install/manifests.js';
import { policySourceObject } from '../../engine/src/cli/install/install.js';
import { serverSideApply } from '../../engine/src/core/kube/apply.js';
import { KubeClient, isNotFound } from '../../engine/src/core/kube/client.js';
import { ResourceResolver, objectPath, type KubeObject } from '../../engine/src/core/kube/resources.js';
import {
  WEBHOOK_NAMES,
  buildMutatingWebhookConfiguration,
  buildValidatingWebhookConfiguration,
} from '../../engine/src/admission/webhook-config.js';
import { isolationNetworkPolicy } from '../../engine/src/quarantine/actions/isolation-policy.js';
import { serviceAccountKubeConfig } from '../../tools/local-cluster/identities.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';

const run = promisify(execFile);
const CHART = 'charts/bulkhead';
const RELEASE = 'bulkhead';
const REPO = 'https://git.example.invalid/platform/policies.git'; // never fetched: no engine runs on kwok

type Obj = KubeObject & Record<string, unknown>;
const isHook = (o: KubeObject): boolean =>
  (o.metadata as { annotations?: Record<string, string> }).annotations?.['helm.sh/hook'] !== undefined;
const docs = (text: string): Obj[] => (loadAll(text) as Obj[]).filter(Boolean);
const byKey = (xs: KubeObject[]): Map<string, KubeObject> => new Map(xs.map((x) => [objectKey(x), x]));

interface Deployment {
  spec: {
    replicas: number;
    template: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: {
        priorityClassName?: string;
        nodeSelector?: Record<string, string>;
        tolerations?: unknown[];
        affinity?: unknown;
        containers: { name: string; image: string; args: string[]; env: { name: string; value?: string }[] }[];
        volumes: { name: string }[];
      };
    };
    selector: { matchLabels: Record<string, string> };
  };
}

describe('Helm chart charts/bulkhead with the real Helm', function () {
  this.timeout(600_000);
  let helmBin: string;
  let kubeconfig: string;
  let client: KubeClient;
  let resolver: ResourceResolver;
  let tmp: string;

  const helm = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const { stdout, stderr } = await run(helmBin, args, {
        maxBuffer: 16 << 20,
        timeout: 300_000,
        // Helm's own state (repository cache, config) in a temp HOME: nothing of this machine's.
        env: {
          PATH: process.env.PATH ?? '',
          HOME: tmp,
          KUBECONFIG: kubeconfig,
          HELM_CACHE_HOME: join(tmp, 'cache'),
          HELM_CONFIG_HOME: join(tmp, 'config'),
          HELM_DATA_HOME: join(tmp, 'data'),
        },
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };
  const template = async (...sets: string[]): Promise<Obj[]> => {
    const r = await helm('template', RELEASE, CHART, '--include-crds', ...sets.flatMap((s) => ['--set', s]));
    assert.equal(r.code, 0, r.stderr);
    return docs(r.stdout);
  };
  const get = async <T = KubeObject>(path: string): Promise<T | undefined> => {
    try {
      return await client.request<T>({ method: 'GET', path });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const webhookPaths = [
    '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
    '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
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
  const pathOf = async (o: KubeObject): Promise<string> => {
    const res = await resolver.resolve(o.apiVersion, o.kind);
    return objectPath(res, o.metadata.name, res.namespaced ? o.metadata.namespace : undefined);
  };
  const engineOf = (objs: KubeObject[]): Deployment =>
    objs.find((o) => o.kind === 'Deployment' && o.metadata.name === ENGINE.deployment) as unknown as Deployment;

  before(async () => {
    const { stdout } = await run('bash', ['local-cluster/build-helm.sh'], { maxBuffer: 1 << 20, timeout: 1_200_000 });
    helmBin = stdout.trim().split('\n').at(-1)!;
    kubeconfig = getCluster().kubeconfigPath;
    client = new KubeClient(getCluster().kubeConfig());
    resolver = new ResourceResolver(client);
    tmp = await mkdtemp(join(tmpdir(), 'bh-helm-'));
  });

  after(async () => {
    // Never leave a dead fail-closed guard or the release behind for the next test file.
    for (const [p, n] of [
      [webhookPaths[0], WEBHOOK_NAMES.mutating],
      [webhookPaths[1], WEBHOOK_NAMES.validating],
    ] as const)
      await client.request({ method: 'DELETE', path: `${p}/${n}` }).catch(() => undefined);
    if ((await helm('status', RELEASE)).code === 0) await helm('uninstall', RELEASE, '--no-hooks', '--wait');
    client.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('`helm lint --strict` passes', async () => {
    const r = await helm('lint', '--strict', CHART);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('the default render is `kubectl kustomize deploy/`, plus the dashboard Secret install creates, plus the hooks', async () => {
    const { stdout } = await run(join(getCluster().binDir, 'kubectl'), ['kustomize', DEFAULT_MANIFEST_DIR], {
      maxBuffer: 8 << 20,
    });
    const kustomize = docs(stdout);
    const chart = await template();
    const objects = byKey(chart.filter((o) => !isHook(o)));
    for (const [k, v] of byKey(kustomize)) {
      assert.ok(objects.has(k), `the chart renders no ${k}`);
      assert.deepEqual(objects.get(k), v, `${k} differs from kustomize's rendering`);
      objects.delete(k);
    }
    const secret = objects.get('Secret/bulkhead-system/bulkhead-dashboard') as
      { data?: { token?: string } } | undefined;
    assert.ok(secret, 'no dashboard Secret');
    assert.match(Buffer.from(secret.data?.token ?? '', 'base64').toString(), /^[A-Za-z0-9]{43}$/);
    objects.delete('Secret/bulkhead-system/bulkhead-dashboard');
    assert.deepEqual([...objects.keys()], [], 'objects beyond deploy/ and the dashboard Secret');
    assert.deepEqual(chart.filter(isHook).map(objectKey).sort(), [
      'ClusterRole/bulkhead-uninstall-hook',
      'ClusterRoleBinding/bulkhead-uninstall-hook',
      'Job/bulkhead-system/bulkhead-uninstall-hook',
      'Pod/bulkhead-system/bulkhead-test-engine-ready',
      'Role/bulkhead-system/bulkhead-uninstall-hook',
      'RoleBinding/bulkhead-system/bulkhead-uninstall-hook',
      'ServiceAccount/bulkhead-system/bulkhead-uninstall-hook',
    ]);
    // The release living in bulkhead-system (helm install -n bulkhead-system --create-namespace):
    // Helm made the namespace, so the chart does not render it.
    const inNs = await helm('template', RELEASE, CHART, '-n', ENGINE.namespace);
    assert.equal(inNs.code, 0, inNs.stderr);
    assert.ok(!docs(inNs.stdout).some((o) => o.kind === 'Namespace'));
  });

  it('every value reaches the render, and none changes a selector', async () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const objs = await template(
      'replicas=3',
      'image.engine.repository=registry.example/bulkhead',
      'image.engine.tag=1.2.3',
      `image.engine.digest=${digest}`,
      'image.sidecar.repository=registry.example/sidecar',
      'image.sidecar.tag=1.2.3',
      'image.pullPolicy=Always',
      'imagePullSecrets[0].name=regcred',
      'resources.requests.cpu=200m',
      'nodeSelector.pool=system',
      'tolerations[0].key=dedicated',
      'tolerations[0].operator=Exists',
      'affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=zone',
      'affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator=Exists',
      'priorityClassName=system-cluster-critical',
      'clusterName=prod-eu1',
      'admission.mode=policy',
      'dashboard.enabled=false',
      'networkPolicy.enabled=false',
      'namespace.create=false',
      'commonLabels.team=platform',
      'commonLabels.app\\.kubernetes\\.io/name=overridden',
      'commonAnnotations.owner=sre',
      'podLabels.scrape=yes',
      'podAnnotations.note=pod',
      `policySource.url=${REPO}`,
      'policySource.ref.branch=release',
      'policySource.path=clusters/prod',
      'policySource.secret=policy-repo',
      'policySource.interval=30s',
      'policySource.recordsBranch=bulkhead-records',
    );
    const dep = engineOf(objs);
    const pod = dep.spec.template.spec;
    const engine = pod.containers.find((c) => c.name === 'engine')!;
    assert.equal(dep.spec.replicas, 3);
    assert.equal(engine.image, `registry.example/bulkhead:1.2.3@${digest}`);
    assert.equal((engine as unknown as { imagePullPolicy: string }).imagePullPolicy, 'Always');
    assert.deepEqual((pod as unknown as { imagePullSecrets: unknown }).imagePullSecrets, [{ name: 'regcred' }]);
    assert.equal((engine as unknown as { resources: { requests: { cpu: string } } }).resources.requests.cpu, '200m');
    assert.equal(engine.env.find((e) => e.name === 'BULKHEAD_SIDECAR_IMAGE')?.value, 'registry.example/sidecar:1.2.3');
    assert.equal(engine.env.find((e) => e.name === 'BULKHEAD_CLUSTER_NAME')?.value, 'prod-eu1');
    assert.deepEqual(pod.nodeSelector, { pool: 'system' });
    assert.deepEqual(pod.tolerations, [{ key: 'dedicated', operator: 'Exists' }]);
    assert.ok(pod.affinity);
    assert.equal(pod.priorityClassName, 'system-cluster-critical');
    assert.equal(engine.args.filter((a) => a.startsWith('--admission')).join(), '--admission=policy');
    // Dashboard off: no Secret, no token flag, no mount of it.
    assert.ok(!engine.args.some((a) => a.startsWith('--dashboard-token-file')));
    assert.ok(!pod.volumes.some((v) => v.name === 'dashboard-token'));
    const keys = objs.map(objectKey);
    assert.ok(!keys.includes('Secret/bulkhead-system/bulkhead-dashboard'));
    assert.ok(!objs.some((o) => o.kind === 'NetworkPolicy'));
    assert.ok(!objs.some((o) => o.kind === 'Namespace'));
    // Extras on every object; deploy/'s own label wins; selectors untouched.
    for (const o of objs.filter((x) => x.kind !== 'CustomResourceDefinition' && !isHook(x))) {
      assert.equal(o.metadata.labels?.team, 'platform', `${objectKey(o)} lacks commonLabels`);
      assert.equal(
        (o.metadata as { annotations?: Record<string, string> }).annotations?.owner,
        'sre',
        `${objectKey(o)} lacks commonAnnotations`,
      );
    }
    assert.equal(
      objs.find((o) => o.kind === 'Service')?.metadata.labels?.['app.kubernetes.io/name'],
      'bulkhead',
      "deploy/'s label wins over commonLabels",
    );
    assert.deepEqual(dep.spec.selector.matchLabels, {
      'app.kubernetes.io/name': 'bulkhead',
      'app.kubernetes.io/component': 'engine',
    });
    assert.equal(dep.spec.template.metadata.labels.scrape, 'yes');
    assert.equal(dep.spec.template.metadata.annotations?.note, 'pod');
    // The PolicySource is the one `bulkhead install --repo … --ref … --path … --secret … --interval …` writes, plus recordsBranch.
    const ps = objs.find((o) => o.kind === 'PolicySource') as Obj & { spec: unknown };
    const want = policySourceObject({
      name: 'default',
      url: REPO,
      branch: 'release',
      path: 'clusters/prod',
      secret: 'policy-repo',
      interval: '30s',
    }) as Obj & { spec: Record<string, unknown> };
    assert.deepEqual(ps.spec, { ...want.spec, recordsBranch: 'bulkhead-records' });
    assert.equal(ps.metadata.name, want.metadata.name);
  });

  it('values.schema.json refuses bad values with a message naming them', async () => {
    for (const [set, what] of [
      ['replicas=0', /replicas/],
      ['image.engine.digest=abc', /digest/],
      ['clusterName=Not_A_Name', /clusterName/],
      ['admission.mode=sometimes', /admission/],
      ['dashbord.enabled=false', /dashbord/],
    ] as const) {
      const r = await helm('template', RELEASE, CHART, '--set', set);
      assert.notEqual(r.code, 0, `${set} was accepted`);
      assert.match(r.stderr, what, r.stderr);
    }
    const two = await helm(
      'template',
      RELEASE,
      CHART,
      '--set',
      `policySource.url=${REPO}`,
      '--set',
      'policySource.ref.branch=a',
      '--set',
      'policySource.ref.tag=b',
    );
    assert.notEqual(two.code, 0);
    assert.match(two.stderr, /at most one of branch, tag and commit/);
  });

  it('`helm install` reaches the state `bulkhead install` reaches; `helm uninstall` leaves no webhook configuration behind', async () => {
    const inst = await helm(
      'install',
      RELEASE,
      CHART,
      '--set',
      `policySource.url=${REPO}`,
      '--wait',
      '--timeout',
      '4m',
    );
    assert.equal(inst.code, 0, `${inst.stdout}\n${inst.stderr}`);
    assert.match(inst.stdout, /STATUS: deployed/);
    // CRDs Established and served.
    for (const crd of (await renderKustomization(DEFAULT_MANIFEST_DIR)).filter(
      (r) => r.obj.kind === 'CustomResourceDefinition',
    )) {
      const live = await get<{ status?: { conditions?: { type: string; status: string }[] } }>(
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.obj.metadata.name}`,
      );
      assert.ok(
        live?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'),
        crd.obj.metadata.name,
      );
    }
    // Every object `bulkhead install` applies, as deploy/ renders it, plus its dashboard Secret and PolicySource.
    const want = (await renderKustomization(DEFAULT_MANIFEST_DIR))
      .map((r) => r.obj)
      .filter((o) => o.kind !== 'CustomResourceDefinition');
    for (const o of want) {
      const path = await pathOf(o);
      assert.ok(await get(path), `${objectKey(o)} is not in the cluster`);
    }
    const secret = await get<{ data: { token: string } }>(
      `/api/v1/namespaces/${ENGINE.namespace}/secrets/bulkhead-dashboard`,
    );
    assert.match(Buffer.from(secret?.data.token ?? '', 'base64').toString(), /^[A-Za-z0-9]{43}$/);
    const ps = await get<{ spec: unknown }>('/apis/bulkhead.dev/v1alpha1/policysources/default');
    assert.deepEqual(ps?.spec, {
      ...(policySourceObject({ name: 'default', url: REPO }) as unknown as { spec: object }).spec,
      interval: '1m',
      path: '.',
      recordsPath: 'records',
      suspend: false,
    });
    const dep = await get<{ status?: { conditions?: { type: string; status: string }[]; availableReplicas?: number } }>(
      `/apis/apps/v1/namespaces/${ENGINE.namespace}/deployments/${ENGINE.deployment}`,
    );
    assert.ok(
      dep?.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True'),
      'engine not Available',
    );
    assert.equal(dep?.status?.availableReplicas, 2);

    // An upgrade keeps the dashboard token (lookup), as a re-run of install does.
    const up = await helm(
      'upgrade',
      RELEASE,
      CHART,
      '--reuse-values',
      '--set',
      'replicas=1',
      '--wait',
      '--timeout',
      '4m',
    );
    assert.equal(up.code, 0, up.stderr);
    const after = await get<{ data: { token: string } }>(
      `/api/v1/namespaces/${ENGINE.namespace}/secrets/bulkhead-dashboard`,
    );
    assert.equal(after?.data.token, secret?.data.token, 'the upgrade changed the dashboard token');

    // What a running engine leaves behind: its webhook configurations (the real generators,
    // pointing at the engine's Service, which nothing backs here) and an isolation policy.
    const endpoint = { service: { namespace: ENGINE.namespace, name: ENGINE.deployment, port: 8443 } };
    const policies = [{ metadata: { name: 'shop' }, spec: { match: { namespaces: ['shop'] } } }];
    for (const cfg of [
      buildMutatingWebhookConfiguration(policies, { engineNamespace: ENGINE.namespace, endpoint }),
      buildValidatingWebhookConfiguration({ engineNamespace: ENGINE.namespace, endpoint }),
    ])
      await serverSideApply(client, resolver, cfg as unknown as KubeObject);
    const ns = await newNamespace('helm-chart');
    await serverSideApply(client, resolver, isolationNetworkPolicy(ns) as unknown as KubeObject);
    assert.equal((await bulkheadWebhooks()).length, 2);
    // The dead guard refuses writes to the PolicySource, Helm's delete included: the reason for the hook.
    await eventually(
      () =>
        assert.rejects(
          client.request({
            method: 'DELETE',
            path: '/apis/bulkhead.dev/v1alpha1/policysources/default',
            query: { dryRun: 'All' },
          }),
          /failed calling webhook|guard\.bulkhead\.dev/,
        ),
      { what: 'the dead guard to refuse the delete' },
    );

    // The pre-delete hook, run as kwok cannot: its RBAC from the chart, its arguments from its Job.
    const hooks = (await template()).filter(isHook);
    const job = hooks.find((o) => o.kind === 'Job') as unknown as {
      spec: { template: { spec: { serviceAccountName: string; containers: { args: string[] }[] } } };
    };
    for (const o of hooks.filter((x) => x.kind !== 'Job' && x.kind !== 'Pod'))
      await serverSideApply(client, resolver, o as KubeObject);
    const sa = await serviceAccountKubeConfig(
      getCluster().kubeConfig(),
      getCluster(),
      ENGINE.namespace,
      job.spec.template.spec.serviceAccountName,
    );
    const kc = join(tmp, 'hook-kubeconfig');
    await writeFile(kc, sa.yaml, { mode: 0o600 });
    const hookRun = await run(
      process.execPath,
      ['bin/bulkhead.js', ...job.spec.template.spec.containers[0]!.args, '--kubeconfig', kc],
      {
        maxBuffer: 4 << 20,
        timeout: 300_000,
      },
    ).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`the hook's command failed:\n${err.stdout}\n${err.stderr}`);
    });
    assert.match(hookRun.stdout, /no Bulkhead webhook configuration is left/, hookRun.stdout);
    assert.deepEqual(await bulkheadWebhooks(), []);
    assert.equal(
      await get(await pathOf(isolationNetworkPolicy(ns) as unknown as KubeObject)),
      undefined,
      'isolation policy not swept',
    );
    // The hook left the chart's objects to Helm: the Deployment is there, scaled to 0.
    assert.equal(
      (await get<Deployment>(`/apis/apps/v1/namespaces/${ENGINE.namespace}/deployments/${ENGINE.deployment}`))?.spec
        .replicas,
      0,
    );

    const un = await helm('uninstall', RELEASE, '--wait', '--timeout', '4m');
    assert.equal(un.code, 0, `${un.stdout}\n${un.stderr}`);
    assert.deepEqual(await bulkheadWebhooks(), []);
    for (const o of want.filter((x) => x.kind !== 'Namespace')) {
      const path = await pathOf(o);
      assert.equal(await get(path), undefined, `${objectKey(o)} is left after helm uninstall`);
    }
    for (const h of hooks.filter((x) => x.kind.endsWith('Role') || x.kind.endsWith('RoleBinding')))
      assert.equal(await get(await pathOf(h)), undefined, `hook ${objectKey(h)} left behind`);
    // Helm never deletes crds/: the CRDs (and any HealthPolicy in git's keeping) stay.
    assert.ok(await get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/policysources.bulkhead.dev'));
  });
});
