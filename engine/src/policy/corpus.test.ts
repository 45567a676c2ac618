// The hostile-file corpus: every file in testdata/corpus/ is loaded alone and must produce
// exactly the diagnostics (severity, code, line) that testdata/corpus.expect.yaml lists.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { isValid, loadPolicyDir, type Diagnostic } from './index.js';

const testdata = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const corpus = join(testdata, 'corpus');
const tmpRoots: string[] = [];

async function repoWith(files: Record<string, string | Buffer>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'bh-policy-'));
  tmpRoots.push(root);
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), content);
  }
  return root;
}

/** A fresh repository holding one corpus file as policies/<name> (symlinks stay symlinks). */
async function repoWithCorpusFile(name: string): Promise<string> {
  const root = await repoWith({});
  await mkdir(join(root, 'policies'));
  const src = join(corpus, name);
  if ((await lstat(src)).isSymbolicLink()) await symlink(await readlink(src), join(root, 'policies', name));
  else await cp(src, join(root, 'policies', name));
  return root;
}

const summary = (ds: Diagnostic[], file: string): string[] =>
  ds.filter((d) => d.file === file).map((d) => `${d.severity} ${d.code} @${d.line}`);

describe('hostile corpus', () => {
  after(async () => {
    for (const r of tmpRoots) await rm(r, { recursive: true, force: true });
  });

  // Read synchronously: mocha needs the cases while it collects tests, before hooks run.
  const expected = load(readFileSync(join(testdata, 'corpus.expect.yaml'), 'utf8')) as Record<string, string[]>;

  it('has at least 40 files, each with an expectation', async () => {
    const files = (await readdir(corpus)).sort();
    assert.ok(files.length >= 40, `only ${files.length} corpus files`);
    assert.deepEqual(files, Object.keys(expected).sort());
  });

  for (const [name, want] of Object.entries(expected)) {
    it(`${name} → ${want.length ? want.join(', ') : 'valid'}`, async () => {
      const result = await loadPolicyDir(await repoWithCorpusFile(name));
      assert.deepEqual(summary(result.diagnostics, `policies/${name}`), want);
      for (const d of result.diagnostics) {
        assert.ok(d.line >= 0 && d.column >= 0, 'positions are never negative');
        assert.doesNotMatch(d.message, /\n\s+at /, 'no stack trace in a message');
        if (d.file !== 'policies/') assert.ok(d.line >= 1 && d.column >= 1, `${d.code} has a line and column`);
      }
      assert.equal(isValid(result), !want.some((w) => w.startsWith('error')));
    });
  }

  it('never reads the target of a symlink that leaves the repository', async () => {
    const result = await loadPolicyDir(await repoWithCorpusFile('symlink-escape.yaml'));
    assert.ok(!JSON.stringify(result).includes('root:'), 'content of /etc/passwd must not leak into diagnostics');
  });
});

describe('hostile repositories built on the fly', () => {
  it('rejects a 10 MiB file without reading it whole', async () => {
    const root = await repoWith({ 'policies/huge.yaml': Buffer.alloc(10 * 1024 * 1024, 'a: 1\n') });
    const before = process.memoryUsage().rss;
    const result = await loadPolicyDir(root);
    assert.deepEqual(summary(result.diagnostics, 'policies/huge.yaml'), ['error BH_FILE_TOO_LARGE @1']);
    assert.ok(process.memoryUsage().rss - before < 8 * 1024 * 1024, 'rejected without buffering 10 MiB');
  });

  it('honours a lower file-size limit', async () => {
    const root = await repoWith({ 'policies/a.yaml': 'a: 1\n'.repeat(100) });
    const result = await loadPolicyDir(root, { maxFileBytes: 100 });
    assert.deepEqual(summary(result.diagnostics, 'policies/a.yaml'), ['error BH_FILE_TOO_LARGE @1']);
  });

  it('refuses a symlinked directory that points outside the repository', async () => {
    const outside = await repoWith({ 'secret.yaml': 'apiVersion: v1\nkind: Secret\n' });
    const root = await repoWith({ 'policies/.keep': '' });
    await symlink(outside, join(root, 'policies', 'vendor'));
    const result = await loadPolicyDir(root);
    assert.deepEqual(summary(result.diagnostics, 'policies/vendor'), ['error BH_SYMLINK_ESCAPE @1']);
    assert.ok(!result.diagnostics.some((d) => d.code === 'BH_SECRET_IN_REPO'), 'the outside file was not read');
  });

  it('refuses a bulkhead.yaml that links outside the repository', async () => {
    const root = await repoWithCorpusFile('utf8-bom.yaml');
    await symlink('/etc/passwd', join(root, 'bulkhead.yaml'));
    const result = await loadPolicyDir(root);
    assert.deepEqual(summary(result.diagnostics, 'bulkhead.yaml'), ['error BH_SYMLINK_ESCAPE @1']);
    assert.ok(!JSON.stringify(result).includes('root:'));
  });

  it('follows a symlink that stays inside the repository, once, even in a cycle', async () => {
    const root = await repoWithCorpusFile('utf8-bom.yaml');
    await mkdir(join(root, 'shared'));
    await cp(join(corpus, 'utf8-bom.yaml'), join(root, 'shared', 'web.yaml'));
    await symlink(join(root, 'policies'), join(root, 'policies', 'loop'));
    const result = await loadPolicyDir(root);
    assert.deepEqual(result.diagnostics, []);
    assert.equal(result.policies.length, 1);
  });

  it('reports a missing policies/ folder as a warning, and a missing directory as an error', async () => {
    const result = await loadPolicyDir(await repoWith({ 'README.md': 'x' }));
    assert.deepEqual(summary(result.diagnostics, 'policies/'), ['warning BH_NO_POLICIES @0']);
    await assert.rejects(
      loadPolicyDir(join(tmpdir(), 'bh-does-not-exist-42')),
      (e: unknown) => (e as { code?: string }).code === 'BH_NO_SUCH_DIR',
    );
  });

  it('caps the bytes of all files together', async () => {
    const base = await readFile(join(corpus, 'utf8-bom.yaml'), 'utf8');
    const files: Record<string, string> = {};
    for (let i = 0; i < 5; i++) files[`policies/p${i}.yaml`] = base.replace('name: web', `name: web-${i}`);
    const result = await loadPolicyDir(await repoWith(files), { maxTotalBytes: base.length * 3 });
    assert.deepEqual(
      result.diagnostics.map((d) => d.code),
      ['BH_REPO_TOO_LARGE'],
    );
    assert.equal(isValid(result), false);
  });

  it('caps the number of files', async () => {
    const base = await readFile(join(corpus, 'utf8-bom.yaml'), 'utf8');
    const files: Record<string, string> = {};
    for (let i = 0; i < 5; i++) files[`policies/p${i}.yaml`] = base.replace('name: web', `name: web-${i}`);
    const result = await loadPolicyDir(await repoWith(files), { maxFiles: 3 });
    assert.deepEqual(summary(result.diagnostics, 'policies/'), ['error BH_TOO_MANY_FILES @0']);
  });
});

describe('checks across files', () => {
  it('rejects the same policy name in two files, naming the first', async () => {
    const result = await loadPolicyDir(join(testdata, 'repos', 'duplicate-names'));
    assert.deepEqual(
      result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`),
      ['policies/team-b/web.yaml:4:9 BH_DUPLICATE_NAME'],
    );
    assert.match(result.diagnostics[0]!.message, /policies\/team-a\/web\.yaml:4/);
  });

  it('warns when two policies may select the same pods with different actions, naming both files', async () => {
    const result = await loadPolicyDir(join(testdata, 'repos', 'overlap'));
    assert.ok(isValid(result), 'overlap is a warning');
    assert.deepEqual(
      result.diagnostics.map((d) => `${d.severity} ${d.file}:${d.line} ${d.code}`),
      ['warning policies/quarantine-web.yaml:4 BH_OVERLAP'],
    );
    assert.match(result.diagnostics[0]!.message, /alert-web\.yaml/);
    assert.match(result.diagnostics[0]!.message, /quarantine-web\.yaml/);
  });

  it('validates bulkhead.yaml and locates its errors', async () => {
    const result = await loadPolicyDir(join(testdata, 'repos', 'bad-settings'));
    assert.deepEqual(
      result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`),
      ['bulkhead.yaml:6:9 BH_INVALID_VALUE', 'bulkhead.yaml:8:3 BH_UNKNOWN_FIELD'],
    );
    assert.equal(result.settings, undefined);
    assert.match(result.diagnostics[1]!.hint ?? '', /failOnWarnings/);
  });
});
