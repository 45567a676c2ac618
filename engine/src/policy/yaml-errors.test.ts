// Pins how js-yaml's reasons map to codes: if an upgrade rewords one, this fails here rather
// than a corpus file silently changing code.
import assert from 'node:assert/strict';
import { constructFromEvents, parseEvents } from 'js-yaml';
import { classifyYamlError } from './yaml-errors.js';

const classify = (src: string, maxDepth = 100): string | undefined => {
  try {
    constructFromEvents(parseEvents(src, { maxDepth }), { source: src });
  } catch (err) {
    return classifyYamlError(err)?.code;
  }
  return 'none';
};

describe('classifyYamlError', () => {
  const cases: [string, string, number?][] = [
    ['a: [1, 2', 'BH_YAML_SYNTAX'],
    ['a: 1\na: 2\n', 'BH_YAML_DUPLICATE_KEY'],
    ['a: !!js/regexp /x/\n', 'BH_YAML_TAG'],
    ['a: !Custom x\n', 'BH_YAML_TAG'],
    ['a: [[[1]]]\n', 'BH_YAML_DEPTH', 2],
    ['a: *missing\n', 'BH_YAML_SYNTAX'],
    ['a: 1\n', 'none'],
  ];
  for (const [src, code, depth] of cases) {
    it(`${JSON.stringify(src)} → ${code}`, () => assert.equal(classify(src, depth), code));
  }

  it('returns null for errors that are not js-yaml errors (they are bugs, not input problems)', () => {
    assert.equal(classifyYamlError(new TypeError('x')), null);
  });

  it('carries 1-based positions from the mark', () => {
    try {
      parseEvents('a: 1\nb: [\n', { maxDepth: 10 });
      assert.fail('expected a syntax error');
    } catch (err) {
      const f = classifyYamlError(err)!;
      assert.ok(f.line !== undefined && f.line >= 2, `line ${f.line}`);
      assert.ok(f.column !== undefined && f.column >= 1);
    }
  });
});
