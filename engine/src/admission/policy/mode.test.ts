import { strict as assert } from 'node:assert';
import { chooseMode, POLICY_RESOURCES } from './mode.js';

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
});
