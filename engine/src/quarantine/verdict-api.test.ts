import { strict as assert } from 'node:assert';
import { capAction, validateVerdict } from './verdict-api.js';

describe('external verdict validation', () => {
  it('accepts a minimal verdict', () => {
    assert.equal(validateVerdict({ namespace: 'shop', pod: 'api-1', reason: 'AnomalousEgress' }).ok, true);
  });
  it('reports every problem with a JSON pointer', () => {
    const r = validateVerdict({
      namespace: 'Shop!',
      pod: '',
      reason: 'x',
      action: 'Nuke',
      evidence: [{ detail: 3, value: 'a' }],
      bogus: true,
    });
    assert.equal(r.ok, false);
    if (!r.ok)
      assert.deepEqual(r.problems.map((p) => p.pointer).sort(), [
        '/action',
        '/bogus',
        '/evidence/0/detail',
        '/evidence/0/value',
        '/namespace',
        '/pod',
        '/reason',
      ]);
  });
  it('rejects a non-object body', () => {
    assert.equal(validateVerdict([1]).ok, false);
    assert.equal(validateVerdict(null).ok, false);
  });
  it('caps a harsher request at the policy action and keeps a milder one', () => {
    assert.equal(capAction('Quarantine', 'Isolate'), 'Isolate');
    assert.equal(capAction('Restart', 'Alert'), 'Alert');
    assert.equal(capAction('Alert', 'Quarantine'), 'Alert');
  });
});
