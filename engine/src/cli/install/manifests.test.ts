import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../core/kube/resources.js';
import {
  DEFAULT_MANIFEST_DIR,
  ENGINE,
  applyOrder,
  objectKey,
  renderKustomization,
  withEngineImage,
} from './manifests.js';

const obj = (kind: string, name: string, namespace?: string): KubeObject => ({
  apiVersion: 'v1',
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}) },
});

describe('install manifests: the in-process kustomization renderer', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bh-kust-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const write = async (rel: string, text: string): Promise<void> => {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), text);
  };

  it('follows resources through files and nested folders, in kustomization order, skipping empty documents', async () => {
    await write('kustomization.yaml', 'resources: [a.yaml, sub]\n');
    await write('a.yaml', '---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n');
    await write(
      'sub/kustomization.yaml',
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [b.yaml]\n',
    );
    await write(
      'sub/b.yaml',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: x}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: x}\n',
    );
    const r = await renderKustomization(dir);
    assert.deepEqual(
      r.map((x) => [objectKey(x.obj), x.file]),
      [
        ['Namespace/x', 'a.yaml'],
        ['ConfigMap/x/b', 'sub/b.yaml'],
        ['ConfigMap/x/c', 'sub/b.yaml'],
      ],
    );
  });

  it('refuses kustomize features it does not implement instead of ignoring them', async () => {
    await write('kustomization.yaml', 'resources: [a.yaml]\nnamespace: other\npatches: []\n');
    await write('a.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n');
    await assert.rejects(renderKustomization(dir), /only a plain `resources` list.*namespace, patches/);
  });

  it('refuses duplicates, missing resources, cycles and documents without identity', async () => {
    await write('kustomization.yaml', 'resources: [a.yaml, b.yaml]\n');
    await write('a.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n');
    await write('b.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n');
    await assert.rejects(renderKustomization(dir), /Namespace\/x is defined twice \(a.yaml and b.yaml\)/);
    await write('kustomization.yaml', 'resources: [missing.yaml]\n');
    await assert.rejects(renderKustomization(dir), /resource missing.yaml does not exist/);
    await write('kustomization.yaml', 'resources: [sub]\n');
    await write('sub/kustomization.yaml', 'resources: [..]\n');
    await assert.rejects(renderKustomization(dir), /kustomization cycle/);
    await write('kustomization.yaml', 'resources: [c.yaml]\n');
    await write('c.yaml', 'kind: Namespace\nmetadata: {name: x}\n');
    await assert.rejects(renderKustomization(dir), /without apiVersion, kind or metadata.name/);
  });

  it('orders the namespace and identities before the workload, keeping file order within a kind', () => {
    const xs = [
      obj('Deployment', 'd', 'n'),
      obj('RoleBinding', 'rb', 'n'),
      obj('Service', 's', 'n'),
      obj('ServiceAccount', 'sa', 'n'),
      obj('Namespace', 'n'),
      obj('ClusterRole', 'c2'),
      obj('ClusterRole', 'c1'),
    ];
    assert.deepEqual(
      applyOrder(xs).map((o) => objectKey(o)),
      [
        'Namespace/n',
        'ServiceAccount/n/sa',
        'ClusterRole/c2',
        'ClusterRole/c1',
        'RoleBinding/n/rb',
        'Service/n/s',
        'Deployment/n/d',
      ],
    );
  });
});

describe('install manifests: deploy/ as shipped', () => {
  it('renders CRDs, the engine, its RBAC and its NetworkPolicy', async () => {
    const kinds = new Set((await renderKustomization(DEFAULT_MANIFEST_DIR)).map((r) => r.obj.kind));
    for (const k of [
      'CustomResourceDefinition',
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'Service',
      'PodDisruptionBudget',
      'NetworkPolicy',
    ])
      assert.ok(kinds.has(k), k);
  });

  it("the engine NetworkPolicy selects the engine's pods and admits every port its Deployment declares", async () => {
    const objs = (await renderKustomization(DEFAULT_MANIFEST_DIR)).map((r) => r.obj) as (KubeObject & {
      spec: Record<string, never>;
    })[];
    type Dep = {
      spec: {
        template: {
          metadata: { labels: Record<string, string> };
          spec: { containers: { ports?: { containerPort: number; protocol?: string }[] }[] };
        };
      };
    };
    type NetPol = {
      spec: {
        podSelector: { matchLabels: Record<string, string> };
        policyTypes: string[];
        ingress: { from?: unknown; ports: { port: number; protocol: string }[] }[];
      };
    };
    const dep = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === ENGINE.deployment) as unknown as
      Dep | undefined;
    const np = objs.find((o) => o.kind === 'NetworkPolicy') as unknown as NetPol | undefined;
    assert.ok(dep && np);
    for (const [k, v] of Object.entries(np.spec.podSelector.matchLabels))
      assert.equal(dep.spec.template.metadata.labels[k], v, `podSelector ${k}=${v} does not select the engine pods`);
    assert.deepEqual([...np.spec.policyTypes].sort(), ['Egress', 'Ingress']);
    const admitted = new Set(np.spec.ingress.flatMap((r) => r.ports.map((p) => `${p.protocol}/${p.port}`)));
    const declared = dep.spec.template.spec.containers.flatMap((c) =>
      (c.ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${p.containerPort}`),
    );
    assert.ok(declared.length > 0);
    for (const p of declared)
      assert.ok(admitted.has(p), `the Deployment declares ${p}, the NetworkPolicy does not admit it`);
  });

  it('--image replaces only the engine container image, on a copy', async () => {
    const objs = (await renderKustomization(DEFAULT_MANIFEST_DIR)).map((r) => r.obj);
    const replaced = withEngineImage(objs, 'bulkhead:dev');
    type Dep = { spec: { template: { spec: { containers: { name: string; image: string }[] } } } };
    const image = (xs: KubeObject[]): string | undefined =>
      (xs.find((o) => o.kind === 'Deployment') as unknown as Dep).spec.template.spec.containers.find(
        (c) => c.name === 'engine',
      )?.image;
    assert.equal(image(replaced), 'bulkhead:dev');
    assert.notEqual(image(objs), 'bulkhead:dev');
    assert.throws(() => withEngineImage([obj('Namespace', 'x')], 'y'), /no container "engine"/);
  });
});
