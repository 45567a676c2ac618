import { strict as assert } from 'node:assert';
import { selectorExpr, str } from './cel.js';

describe('CEL literals for the generated admission policies', () => {
  it('quotes every string, so input never becomes code', () => {
    assert.equal(str('a"b\\c\nd\x01'), '"a\\"b\\\\c\\nd\\x01"');
    assert.equal(str('") || true || ("'), '"\\") || true || (\\""');
  });
  it('selectors: matchLabels and every operator; unknown operators match nothing; empty matches all', () => {
    assert.equal(selectorExpr(undefined, 'l'), 'true');
    assert.equal(selectorExpr({ matchLabels: { app: 'web' } }, 'l'), '("app" in l && l["app"] == "web")');
    assert.equal(
      selectorExpr({ matchExpressions: [{ key: 't', operator: 'NotIn', values: ['db'] }] }, 'l'),
      '(!("t" in l) || !(l["t"] in ["db"]))',
    );
    assert.equal(selectorExpr({ matchExpressions: [{ key: 't', operator: 'Gt', values: ['1'] }] }, 'l'), 'false');
  });
});
