import { strict as assert } from 'node:assert';
import { chooseMode, POLICY_RESOURCES, webhookOnly } from './mode.js';

describe('admission mode', () => {
  const all = ['mutatingwebhookconfigurations', ...POLICY_RESOURCES];
  it('auto: policy where the apiserver serves all four kinds, webhook otherwise, saying why', () => {
    assert.equal(chooseMode('auto', all).mode, 'policy');
    const older = chooseMode('auto', ['validatingadmissionpolicies', 'validatingadmissionpolicybindings']);
    assert.equal(older.mode, 'webhook');
    assert.match(
      older.why,
      /does not serve admissionregistration.k8s.io\/v1 mutatingadmissionpolicies, mutatingadmissionpolicybindings/,
    );
  });
  it('policy on a cluster without the kinds is refused with the fix; webhook is always webhook', () => {
    assert.throws(() => chooseMode('policy', []), /--admission=policy, but .* use --admission=auto or webhook/);
    assert.equal(chooseMode('policy', all).mode, 'policy');
    assert.equal(chooseMode('webhook', all).mode, 'webhook');
  });
  it('auto on a cluster that serves the policy path is marked auto (the runtime may still take the webhook)', () => {
    assert.equal(chooseMode('auto', all).auto, true);
    assert.equal(chooseMode('policy', all).auto, undefined);
  });
  it('webhookOnly: a policy asking for AntiAffinity placement needs the webhook, saying which and why', () => {
    const p = (name: string, avoidNode?: string) => ({
      metadata: { name },
      spec: { probe: { tcp: { port: 1 } }, ...(avoidNode ? { action: { replacement: { avoidNode } } } : {}) },
    });
    assert.deepEqual(webhookOnly([p('a'), p('b', 'Taint'), p('c', 'None')]), []);
    assert.deepEqual(webhookOnly([p('a'), p('d', 'AntiAffinity')]), ['d: replacement.avoidNode AntiAffinity']);
  });
});
