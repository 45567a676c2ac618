import { strict as assert } from 'node:assert';
import { PolicyIndex } from './inject/policy-index.js';
import { createMutateProcessor, createValidateProcessor } from './processors.js';
import type { AdmissionRequest } from './review.js';

const sidecar = { image: 'x', version: '0.1.0', reportUrl: 'https://x' };
const podReq = (
  namespace: string,
  pod: Record<string, unknown>,
  operation: AdmissionRequest['operation'] = 'CREATE',
): AdmissionRequest => ({
  uid: 'u',
  kind: { group: '', version: 'v1', kind: 'Pod' },
  resource: { group: '', version: 'v1', resource: 'pods' },
  namespace,
  operation,
  userInfo: { username: 'dev' },
  object: pod,
});

describe('admission processors', () => {
  const index = new PolicyIndex(
    [
      {
        metadata: { name: 'web' },
        spec: { match: { namespaces: ['shop'] }, probe: { http: { path: '/', port: 8080 } } },
      },
      { metadata: { name: 'ready' }, spec: { match: { namespaces: ['ro'] }, probe: { fromPod: true } } },
    ],
    { excludedNamespaces: ['kube-system'] },
  );
  const asked: string[] = [];
  const mutate = createMutateProcessor({
    policies: () => index,
    namespaceLabels: (ns) => {
      asked.push(ns);
      return {};
    },
    sidecar,
  });
  const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'app' }] } };

  it('patches a matching pod CREATE with a base64 JSONPatch', async () => {
    const r = await mutate(podReq('shop', pod));
    assert.equal(r.outcome, 'patched');
    assert.equal(r.response.patchType, 'JSONPatch');
    const ops = JSON.parse(Buffer.from(r.response.patch!, 'base64').toString()) as { path: string }[];
    assert.ok(
      ops.some((o) => o.path === '/spec/initContainers'),
      'a native sidecar',
    );
  });

  it('warns (kubectl prints it) when a policy matched but the pod cannot be probed; stays silent when nothing matched', async () => {
    const r = await mutate(podReq('ro', pod));
    assert.equal(r.outcome, 'unchanged');
    assert.match(r.response.warnings?.[0] ?? '', /no sidecar injected: .*readinessProbe/);
    const none = await mutate(podReq('elsewhere', pod));
    assert.equal(none.response.warnings, undefined);
  });

  it('passes anything but pod CREATE unchanged, and never asks for labels of excluded namespaces', async () => {
    assert.equal((await mutate(podReq('shop', pod, 'UPDATE'))).outcome, 'unchanged');
    asked.length = 0;
    assert.equal((await mutate(podReq('kube-system', pod))).outcome, 'unchanged');
    assert.deepEqual(asked, []);
  });

  it('leaves pods alone until policies are loaded', async () => {
    const early = createMutateProcessor({ policies: () => undefined, namespaceLabels: () => ({}), sidecar });
    const r = await early(podReq('shop', pod));
    assert.equal(r.outcome, 'unchanged');
    assert.equal(r.note, 'policies not loaded yet');
  });

  it('validate consults break-glass only when it would deny', async () => {
    let reads = 0;
    const validate = createValidateProcessor({
      guard: { engineUsernames: ['engine'], breakGlassGroups: [] },
      breakGlass: () => {
        reads++;
        return true;
      },
    });
    const req = (username: string): AdmissionRequest => ({
      ...podReq('', {}),
      kind: { group: 'bulkhead.dev', version: 'v1alpha1', kind: 'HealthPolicy' },
      userInfo: { username },
    });
    assert.equal((await validate(req('engine'))).response.allowed, true);
    assert.equal(reads, 0);
    const admin = await validate(req('admin'));
    assert.equal(admin.response.allowed, true, 'break-glass is on');
    assert.equal(reads, 1);
  });
});
