import assert from 'node:assert/strict';
import { DEFAULT_LIMITS } from './limits.js';
import { locate, parseYamlDocuments } from './yaml-documents.js';

const pos = (src: string, pointer: string, prefer: 'key' | 'value' = 'value', doc = 0): string => {
  const parsed = parseYamlDocuments(src, DEFAULT_LIMITS);
  const p = parsed.lines.position(locate(parsed.documents[doc]!, pointer, prefer));
  return `${p.line}:${p.column}`;
};

describe('parseYamlDocuments positions', () => {
  const src = ['a: 1', 'b:', '  c: [x, "y"]', '  d:', '    - e: 1', '      f: 2', ''].join('\n');

  it('locates keys and values by JSON pointer (1-based line:col)', () => {
    assert.equal(pos(src, '/a', 'key'), '1:1');
    assert.equal(pos(src, '/a'), '1:4');
    assert.equal(pos(src, '/b/c/1'), '3:10', 'a quoted scalar starts at its quote');
    assert.equal(pos(src, '/b/d/0/f', 'key'), '6:7');
    assert.equal(pos(src, '/b/d/0/f'), '6:10');
  });

  it('falls back to the nearest located ancestor', () => {
    assert.equal(pos(src, '/b/d/0/missing/deeper'), '5:7');
  });

  it('locates within the right document of a multi-document file', () => {
    const multi = 'a: 1\n---\n---\nb:\n  c: 2\n';
    const parsed = parseYamlDocuments(multi, DEFAULT_LIMITS);
    assert.equal(parsed.documents.length, 2, 'the empty document is skipped');
    assert.equal(parsed.documents[1]!.index, 2);
    assert.equal(pos(multi, '/b/c', 'value', 1), '5:6');
  });

  it('escapes "/" and "~" in keys like ajv does', () => {
    const s = 'labels:\n  app.kubernetes.io/name: x\n  a~b: y\n';
    assert.equal(pos(s, '/labels/app.kubernetes.io~1name', 'key'), '2:3');
    assert.equal(pos(s, '/labels/a~0b'), '3:8');
  });

  it('locates an empty value by its key', () => {
    assert.equal(pos('spec:\n', '/spec'), '1:1');
  });
});

describe('parseYamlDocuments limits', () => {
  it('stops a billion-laughs document fast, before expanding it', () => {
    let bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    const names = 'abcdefghij';
    for (let i = 1; i < names.length; i++)
      bomb += `${names[i]}: &${names[i]} [${Array(9)
        .fill(`*${names[i - 1]}`)
        .join(',')}]\n`;
    const heapBefore = process.memoryUsage().heapUsed;
    const t = performance.now();
    const parsed = parseYamlDocuments(bomb, DEFAULT_LIMITS);
    const ms = performance.now() - t;
    assert.deepEqual(
      parsed.problems.map((p) => p.code),
      ['BH_YAML_ALIAS_EXPANSION'],
    );
    assert.equal(parsed.documents.length, 0);
    assert.ok(ms < 200, `took ${ms.toFixed(0)} ms`);
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 20 * 1024 * 1024, 'bounded memory');
  });

  it('allows modest alias use', () => {
    const parsed = parseYamlDocuments('x: &x {a: 1}\ny: [*x, *x]\n', DEFAULT_LIMITS);
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(parsed.documents[0]!.value, { x: { a: 1 }, y: [{ a: 1 }, { a: 1 }] });
  });

  it('reports every duplicate key at the second occurrence', () => {
    const parsed = parseYamlDocuments('a: 1\nb:\n  c: 1\n  c: 2\na: 3\n', DEFAULT_LIMITS);
    assert.deepEqual(
      parsed.problems.map((p) => `${p.code}@${p.line}:${p.column}`),
      ['BH_YAML_DUPLICATE_KEY@4:3', 'BH_YAML_DUPLICATE_KEY@5:1'],
    );
  });

  it('enforces depth and document count limits from the options', () => {
    assert.deepEqual(
      parseYamlDocuments('a: [[[[1]]]]\n', { ...DEFAULT_LIMITS, maxDepth: 3 }).problems.map((p) => p.code),
      ['BH_YAML_DEPTH'],
    );
    assert.deepEqual(
      parseYamlDocuments('a: 1\n---\nb: 2\n---\nc: 3\n', { ...DEFAULT_LIMITS, maxDocumentsPerFile: 2 }).problems.map(
        (p) => `${p.code}@${p.line}`,
      ),
      ['BH_TOO_MANY_DOCUMENTS@5'],
    );
  });

  it('reads YAML 1.2 core scalars (yes stays a string; no merge keys)', () => {
    const [doc] = parseYamlDocuments('a: yes\nb: 0755\nc: 0x1F\n', DEFAULT_LIMITS).documents;
    assert.deepEqual(doc!.value, { a: 'yes', b: 755, c: 31 });
  });
});
