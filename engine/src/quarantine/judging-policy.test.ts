import { strict as assert } from 'node:assert';
import type { HealthPolicy } from '../core/api/index.js';
import { judgingPolicy, policySelects } from './judging-policy.js';

const hp = (name: string, match: HealthPolicy['spec']['match'], mode?: 'DryRun'): HealthPolicy => ({
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'HealthPolicy',
  metadata: { name },
  spec: {
    match,
    probe: { http: { path: '/healthz', port: 8080 } },
    detect: { rules: [{ type: 'ConsecutiveFailures' }] },
    action: { type: 'Quarantine', ...(mode ? { mode } : {}) },
  },
});

describe('judgingPolicy: the policy that judges a pod comes from the cluster', () => {
  const checkout = hp('checkout-api', { namespaces: ['shop'], selector: { matchLabels: { app: 'checkout' } } });
  const teams = hp('teams', { namespaceSelector: { matchLabels: { team: 'a' } } });
  const policies = new Map([checkout, teams].map((p) => [p.metadata.name, p]));
  let nsReads = 0;
  const deps = {
    policy: (n: string) => policies.get(n),
    excludedNamespaces: new Set(['kube-system', 'bulkhead-system']),
    namespaceLabels: async (ns: string) => {
      nsReads++;
      return (ns === 'team-a' ? { team: 'a' } : {}) as Record<string, string>;
    },
  };
  const pod = (namespace: string, labels: Record<string, string>) => ({ namespace, name: 'p', labels });

  it('the named policy, when it exists and selects the pod', async () => {
    assert.equal((await judgingPolicy('checkout-api', pod('shop', { app: 'checkout' }), deps)).policy, checkout);
  });
  it('refuses a policy that does not select the pod (labels, namespace list, namespaceSelector), saying so', async () => {
    const other = await judgingPolicy('checkout-api', pod('shop', { app: 'search' }), deps);
    assert.equal(other.policy, undefined);
    assert.equal(other.why, 'HealthPolicy "checkout-api" does not select pod shop/p');
    assert.equal((await judgingPolicy('checkout-api', pod('blog', { app: 'checkout' }), deps)).policy, undefined);
    assert.equal((await judgingPolicy('teams', pod('team-b', {}), deps)).policy, undefined);
    assert.equal((await judgingPolicy('teams', pod('team-a', {}), deps)).policy, teams);
  });
  it("never judges a pod in a namespace the injector always excludes, whatever the policy's match says", async () => {
    // A hand-written injection annotation in kube-system or the engine's namespace must not make
    // the judge cover what the injector never covers.
    const everywhere = hp('everywhere', {});
    const d = { ...deps, policy: (n: string) => (n === 'everywhere' ? everywhere : undefined) };
    assert.equal((await judgingPolicy('everywhere', pod('default', {}), d)).policy, everywhere);
    assert.match(
      (await judgingPolicy('everywhere', pod('kube-system', {}), d)).why ?? '',
      /kube-system is always excluded/,
    );
    assert.match((await judgingPolicy('everywhere', pod('bulkhead-system', {}), d)).why ?? '', /always excluded/);
  });
  it('refuses an unknown policy and a pod no policy injected', async () => {
    assert.equal((await judgingPolicy('gone', pod('shop', {}), deps)).why, 'no HealthPolicy "gone"');
    assert.match((await judgingPolicy(undefined, pod('shop', {}), deps)).why ?? '', /not injected by a policy/);
  });
  it('reads namespace labels only for a policy with a namespaceSelector', async () => {
    nsReads = 0;
    await judgingPolicy('checkout-api', pod('shop', { app: 'checkout' }), deps);
    assert.equal(nsReads, 0);
    await judgingPolicy('teams', pod('team-a', {}), deps);
    assert.equal(nsReads, 1);
  });
  it('policySelects: an empty match selects every pod', () => {
    assert.equal(policySelects(hp('all', {}), pod('x', {}), {}), true);
  });
});
