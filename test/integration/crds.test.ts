// The generated CRDs against the real kube-apiserver of the test control plane: they are
// accepted (the global fixture installs deploy/crds/), keep their Kubernetes extensions, and
// the apiserver and `bulkhead validate` reach the same verdict on a shared set of documents.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ApiextensionsV1Api } from '@kubernetes/client-node';
import { dump, load } from 'js-yaml';
import { KubeApiError, KubeClient } from '../../engine/src/core/kube/client.js';
import { isValid, loadPolicyDir } from '../../engine/src/policy/index.js';
import { eventually, getCluster, newNamespace } from '../harness/index.js';

const KINDS = ['healthpolicies.bulkhead.dev', 'quarantines.bulkhead.dev', 'policysources.bulkhead.dev'];
const template = resolve('policy-repo-template', 'policies');

type Doc = Record<string, unknown> & { metadata: { name: string }; spec: Record<string, unknown> };
const clone = <T>(v: T): T => structuredClone(v);

/** A valid policy and edits of it; each edit breaks exactly one rule. */
function cases(base: Doc): { name: string; doc: unknown }[] {
  const edit = (name: string, fn: (d: Doc) => void): { name: string; doc: unknown } => {
    const d = clone(base);
    d.metadata.name = `case-${name}`;
    fn(d);
    return { name, doc: d };
  };
  const spec = (d: Doc): Record<string, Record<string, unknown>> => d.spec as Record<string, Record<string, unknown>>;
  return [
    edit('valid', () => {}),
    edit('unknown-field', (d) => (spec(d).probe!.intervall = '10s')),
    edit('unknown-top-level-spec-field', (d) => (spec(d).retries = 3 as never)),
    edit('wrong-type', (d) => ((spec(d).detect!.rules as Record<string, unknown>[])[0]!.threshold = 'three')),
    edit('bad-enum', (d) => (spec(d).action!.type = 'Quarantene')),
    edit('missing-required', (d) => delete (d.spec as Record<string, unknown>).probe),
    edit('probe-http-and-tcp', (d) => (spec(d).probe!.tcp = { port: 9000 })),
    edit('bad-duration', (d) => (spec(d).probe!.interval = '10 seconds')),
    edit('ratio-zero', (d) => (spec(d).detect!.rules = [{ type: 'ErrorRate', ratio: 0, window: '1m' }])),
    edit('port-not-int-or-string', (d) => ((spec(d).probe!.http as Record<string, unknown>).port = [8080])),
    edit('too-many-rules', (d) => (spec(d).detect!.rules = Array.from({ length: 17 }, () => ({ type: 'CrashLoop' })))),
    edit(
      'bad-selector-operator',
      (d) =>
        ((spec(d).match!.selector as Record<string, unknown>).matchExpressions = [
          { key: 'app', operator: 'Equals', values: ['x'] },
        ]),
    ),
    edit('bad-name', (d) => (d.metadata.name = 'Case_Bad_Name')),
  ];
}

/** Checks a schema cannot express: the apiserver accepts them, `bulkhead validate` does not. */
function semanticOnly(base: Doc): { name: string; doc: unknown }[] {
  const d1 = clone(base);
  d1.metadata.name = 'semantic-port';
  ((d1.spec.probe as Record<string, unknown>).http as Record<string, unknown>).port = 70000;
  const d2 = clone(base);
  d2.metadata.name = 'semantic-timeout';
  (d2.spec.probe as Record<string, unknown>).timeout = '30s';
  const d3 = clone(base);
  d3.metadata.name = 'semantic-forward-http';
  d3.spec.forward = [{ url: 'http://collector.example.com' }];
  return [
    { name: 'port out of range', doc: d1 },
    { name: 'timeout not below interval', doc: d2 },
    { name: 'forward over plain http', doc: d3 },
  ];
}

function kubectl(args: string[]): Promise<string> {
  const c = getCluster();
  return new Promise((ok, fail) => {
    execFile(
      join(c.binDir, 'kubectl'),
      [`--kubeconfig=${c.kubeconfigPath}`, ...args],
      { timeout: 30_000 },
      (err, stdout, stderr) =>
        err ? fail(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)) : ok(stdout),
    );
  });
}

async function apiserverAccepts(client: KubeClient, doc: unknown): Promise<boolean> {
  try {
    await client.request({
      method: 'POST',
      path: '/apis/bulkhead.dev/v1alpha1/healthpolicies',
      query: { dryRun: 'All', fieldValidation: 'Strict' },
      body: doc,
    });
    return true;
  } catch (err) {
    if (err instanceof KubeApiError && (err.code === 422 || err.code === 400)) return false;
    throw err;
  }
}

async function cliAccepts(doc: unknown): Promise<boolean> {
  const root = await mkdtemp(join(tmpdir(), 'bh-verdict-'));
  try {
    await mkdir(join(root, 'policies'));
    await writeFile(join(root, 'policies', 'p.yaml'), dump(doc));
    return isValid(await loadPolicyDir(root));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

describe('generated CRDs on a real apiserver', function () {
  this.timeout(120_000);
  let client: KubeClient;
  let base: Doc;

  before(async () => {
    client = new KubeClient(getCluster().kubeConfig());
    base = load(await readFile(join(template, 'checkout-api.yaml'), 'utf8')) as Doc;
  });

  it('are installed and Established, keep printer columns, the status subresource and int-or-string', async () => {
    const api = getCluster().kubeConfig().makeApiClient(ApiextensionsV1Api);
    for (const name of KINDS) {
      const crd = await api.readCustomResourceDefinition({ name });
      assert.ok(
        crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'),
        `${name} Established`,
      );
      const v = crd.spec.versions[0]!;
      assert.ok((v.additionalPrinterColumns ?? []).length >= 4, `${name} has printer columns`);
      assert.ok(v.subresources?.status, `${name} has the status subresource`);
      assert.ok((crd.spec.names.shortNames ?? []).length > 0, `${name} has short names`);
    }
    const hp = await api.readCustomResourceDefinition({ name: 'healthpolicies.bulkhead.dev' });
    const port =
      hp.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.spec!.properties!.probe!.properties!.http!.properties!
        .port!;
    assert.equal(
      port.x_kubernetes_int_or_string,
      true,
      'the x-kubernetes-int-or-string extension survived installation',
    );
  });

  it('accepts every policy of the template, and a Quarantine and a PolicySource', async () => {
    for (const f of ['checkout-api.yaml', 'queue-worker.yaml', 'search-dryrun.yaml']) {
      assert.equal(await apiserverAccepts(client, load(await readFile(join(template, f), 'utf8'))), true, f);
    }
    const ns = 'default';
    await client.request({
      method: 'POST',
      path: `/apis/bulkhead.dev/v1alpha1/namespaces/${ns}/quarantines`,
      query: { dryRun: 'All', fieldValidation: 'Strict' },
      body: {
        apiVersion: 'bulkhead.dev/v1alpha1',
        kind: 'Quarantine',
        metadata: { name: 'web-1-abcd1234', namespace: ns },
        spec: {
          pod: { name: 'web-1', uid: 'abcd1234-0000' },
          policy: 'checkout-api',
          reason: 'ConsecutiveFailures',
          mode: 'DryRun',
          time: '2026-11-26T01:00:00Z',
          evidence: [{ time: '2026-11-26T00:59:50Z', source: 'Sidecar', detail: 'GET /healthz 503' }],
        },
      },
    });
    await client.request({
      method: 'POST',
      path: '/apis/bulkhead.dev/v1alpha1/policysources',
      query: { dryRun: 'All', fieldValidation: 'Strict' },
      body: {
        apiVersion: 'bulkhead.dev/v1alpha1',
        kind: 'PolicySource',
        metadata: { name: 'fleet' },
        spec: { url: 'https://git.example.com/policies.git', ref: { branch: 'main' }, interval: '1m' },
      },
    });
  });

  it('serve the schema descriptions to `kubectl explain`', async () => {
    const out = await eventually(() => kubectl(['explain', 'healthpolicy.spec.action.budget']), {
      what: 'kubectl explain healthpolicy',
      timeoutMs: 30_000,
    });
    assert.match(out, /The blast-radius limit/);
    assert.match(out, /maxUnavailable/);
    assert.match(out, /Most pods of one workload/);
  });

  it('tell the story in `kubectl get` through their printer columns', async () => {
    const ns = await newNamespace('crds');
    const body = {
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'Quarantine',
      metadata: { name: 'web-1-abcd1234', namespace: ns },
      spec: {
        pod: { name: 'web-1', uid: 'abcd1234-0000' },
        policy: 'checkout-api',
        reason: 'ConsecutiveFailures',
        mode: 'DryRun',
        time: '2026-11-26T01:00:00Z',
      },
    };
    await client.request({
      method: 'POST',
      path: `/apis/bulkhead.dev/v1alpha1/namespaces/${ns}/quarantines`,
      query: { fieldValidation: 'Strict' },
      body,
    });
    try {
      const out = await kubectl(['get', 'quarantines', '-n', ns]);
      const [header, row] = out.trim().split('\n');
      assert.deepEqual(header!.split(/\s+/), ['NAME', 'POD', 'POLICY', 'REASON', 'MODE', 'PHASE', 'AUDIT', 'AGE']);
      assert.match(row!, /^web-1-abcd1234\s+web-1\s+checkout-api\s+ConsecutiveFailures\s+DryRun\s/);
      const short = await kubectl(['get', 'qr', '-n', ns, '-o', 'name']);
      assert.equal(short.trim(), 'quarantine.bulkhead.dev/web-1-abcd1234', 'short name qr works');
    } finally {
      await client.request({
        method: 'DELETE',
        path: `/apis/bulkhead.dev/v1alpha1/namespaces/${ns}/quarantines/web-1-abcd1234`,
      });
    }
  });

  it('and `bulkhead validate` give the same verdict on a shared set of documents', async () => {
    const verdicts: string[] = [];
    const expected: string[] = [];
    for (const c of cases(base)) {
      const [server, cli] = [await apiserverAccepts(client, c.doc), await cliAccepts(c.doc)];
      verdicts.push(`${c.name}: apiserver ${server ? 'accepts' : 'rejects'}, cli ${cli ? 'accepts' : 'rejects'}`);
      const want = c.name === 'valid' ? 'accepts' : 'rejects';
      expected.push(`${c.name}: apiserver ${want}, cli ${want}`);
    }
    assert.deepEqual(verdicts, expected);
  });

  it('the CLI is stricter only where a schema cannot say it (semantic checks)', async () => {
    for (const c of semanticOnly(base)) {
      assert.equal(await apiserverAccepts(client, c.doc), true, `${c.name}: the schema alone allows it`);
      assert.equal(await cliAccepts(c.doc), false, `${c.name}: bulkhead validate rejects it`);
    }
  });
});
