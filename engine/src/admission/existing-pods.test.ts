import { strict as assert } from 'node:assert';
import { podsAwaitingSidecar, restartPlan, type ExistingPod, type RolloutPolicy } from './existing-pods.js';
import { PolicyIndex } from './inject/policy-index.js';

const sidecar = { image: 'x', version: '0.1.0', reportUrl: 'https://x' };
const pod = (
  ns: string,
  name: string,
  labels: Record<string, string>,
  owner?: { kind: string; name: string },
  extra: Partial<ExistingPod['metadata']> = {},
): ExistingPod => ({
  metadata: {
    namespace: ns,
    name,
    labels,
    ...(owner ? { ownerReferences: [{ ...owner, controller: true }] } : {}),
    ...extra,
  },
  spec: { containers: [{ name: 'app' }] },
});
const policy = (name: string, ns: string, restart: boolean): RolloutPolicy => ({
  metadata: { name },
  spec: {
    match: { namespaces: [ns] },
    probe: { tcp: { port: 80 } },
    ...(restart ? { rollout: 'Restart' as const } : {}),
  },
});

describe('existing pods without a sidecar', () => {
  const index = new PolicyIndex([policy('shop', 'shop', true), policy('blog', 'blog', false)], {
    excludedNamespaces: ['kube-system'],
  });
  const rsOwners = new Map([
    ['shop/web-abc', 'web'],
    ['blog/site-1', 'site'],
  ]);
  const pods = [
    pod('shop', 'web-abc-1', { app: 'web' }, { kind: 'ReplicaSet', name: 'web-abc' }),
    pod('shop', 'web-abc-2', { app: 'web' }, { kind: 'ReplicaSet', name: 'web-abc' }),
    pod('shop', 'db-0', { app: 'db' }, { kind: 'StatefulSet', name: 'db' }),
    pod('shop', 'bare', {}),
    pod('shop', 'opted-out', {}, undefined, { annotations: { 'bulkhead.dev/inject': 'false' } }),
    pod('shop', 'done', {}, undefined, { annotations: { 'bulkhead.dev/injected': '{}' } }),
    pod('blog', 'site-1-x', {}, { kind: 'ReplicaSet', name: 'site-1' }),
    pod('other', 'unmatched', {}),
  ];

  it('lists the pods a policy would inject, with their policy and owning workload', () => {
    const got = podsAwaitingSidecar(pods, index, () => ({}), rsOwners, sidecar);
    assert.deepEqual(
      got.map((p) => `${p.namespace}/${p.name} ${p.policy} ${p.workload.kind}/${p.workload.name} ${p.restart}`),
      [
        'blog/site-1-x blog Deployment/site false',
        'shop/bare shop Pod/bare true',
        'shop/db-0 shop StatefulSet/db true',
        'shop/web-abc-1 shop Deployment/web true',
        'shop/web-abc-2 shop Deployment/web true',
      ],
    );
  });

  it('plans each opted-in workload once, never bare pods or opted-out policies', () => {
    const plan = restartPlan(podsAwaitingSidecar(pods, index, () => ({}), rsOwners, sidecar));
    assert.deepEqual(plan, [
      { kind: 'Deployment', namespace: 'shop', name: 'web' },
      { kind: 'StatefulSet', namespace: 'shop', name: 'db' },
    ]);
  });
});
