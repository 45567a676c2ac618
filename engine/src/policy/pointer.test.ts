import assert from 'node:assert/strict';
import { DEFAULT_LIMITS } from './limits.js';
import { LineIndex } from './line-index.js';
import { readablePath } from './pointer.js';
import { closest } from './suggest.js';
import { locate, parseYamlDocuments } from './yaml-documents.js';

describe('readablePath', () => {
  const table: [string, string][] = [
    ['', '(document)'],
    ['/spec/detect/rules/0/type', 'spec.detect.rules[0].type'],
    ['/metadata/labels/app.kubernetes.io~1name', 'metadata.labels["app.kubernetes.io/name"]'],
    ['/a~0b', '["a~b"]'],
  ];
  for (const [pointer, want] of table)
    it(`${JSON.stringify(pointer)} → ${want}`, () => assert.equal(readablePath(pointer), want));
});

describe('LineIndex', () => {
  it('maps offsets to 1-based line and column', () => {
    const idx = new LineIndex('ab\ncd\n\nef');
    assert.deepEqual(
      [0, 1, 3, 6, 7, 8].map((o) => idx.position(o)),
      [
        { line: 1, column: 1 },
        { line: 1, column: 2 },
        { line: 2, column: 1 },
        { line: 3, column: 1 },
        { line: 4, column: 1 },
        { line: 4, column: 2 },
      ],
    );
  });
});

describe('positions with other line endings', () => {
  it('counts CRLF and lone CR line breaks the way the YAML parser does', () => {
    for (const eol of ['\r\n', '\r']) {
      const parsed = parseYamlDocuments(['a: 1', 'b:', '  c: 2', ''].join(eol), DEFAULT_LIMITS);
      assert.deepEqual(
        parsed.lines.position(locate(parsed.documents[0]!, '/b/c', 'key')),
        { line: 3, column: 3 },
        JSON.stringify(eol),
      );
    }
  });
});

describe('closest (did you mean)', () => {
  it('suggests a near miss and nothing for an unrelated word', () => {
    assert.equal(closest('intervall', ['interval', 'timeout']), 'interval');
    assert.equal(closest('Quarantene', ['Quarantine', 'Isolate']), 'Quarantine');
    assert.equal(closest('budget', ['match', 'probe']), undefined);
  });
});
