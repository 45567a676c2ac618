// `bulkhead validate` and `bulkhead render` as a user runs them: the real bin entry in a child
// process, checking exit codes, output formats, and that no stack trace ever reaches the user.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = join(repoRoot, 'bin', 'bulkhead.js');
const corpus = join(repoRoot, 'engine', 'src', 'policy', 'testdata', 'corpus');

function bulkhead(args: string[], cwd = repoRoot): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const noStackTrace = (text: string): void =>
  assert.doesNotMatch(text, /\n\s+at .+:\d+:\d+/, `stack trace in:\n${text}`);

describe('bulkhead validate / render (CLI)', function () {
  this.timeout(60_000);
  let bad: string;

  before(async () => {
    bad = await mkdtemp(join(tmpdir(), 'bh-cli-'));
    await mkdir(join(bad, 'policies'));
    for (const f of [
      'unknown-field-nested.yaml',
      'bad-duration-words.yaml',
      'kind-secret.yaml',
      'forward-auth-header.yaml',
    ])
      await cp(join(corpus, f), join(bad, 'policies', f));
  });
  after(async () => {
    await rm(bad, { recursive: true, force: true });
  });

  it('exits 0 on the policy-repo template', () => {
    const r = bulkhead(['validate', 'policy-repo-template']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /policy-repo-template: valid \(3 policies, 0 errors, 0 warnings\)/);
  });

  it('exits 1 on errors and prints each as file:line:col  CODE  message, with hints', () => {
    const r = bulkhead(['validate', '.'], bad);
    assert.equal(r.code, 1);
    const lines = r.stdout.split('\n');
    for (const want of [
      'policies/bad-duration-words.yaml:15:15  BH_DURATION  ',
      'policies/kind-secret.yaml:2:7  BH_SECRET_IN_REPO  ',
      'policies/unknown-field-nested.yaml:15:5  BH_UNKNOWN_FIELD  ',
      'policies/forward-auth-header.yaml:28:9  BH_SECRET_IN_HEADER  warning: ',
    ]) {
      assert.ok(
        lines.some((l) => l.startsWith(want)),
        `missing "${want}" in:\n${r.stdout}`,
      );
    }
    assert.ok(lines.includes('    hint: did you mean "interval"?'));
    assert.match(r.stdout, /invalid \(1 policy, 3 errors, 1 warning\)/);
    noStackTrace(r.stdout + r.stderr);
  });

  it('--output json is machine-readable', () => {
    const r = bulkhead(['validate', '.', '--output', 'json'], bad);
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as {
      valid: boolean;
      errors: number;
      warnings: number;
      diagnostics: { file: string; line: number; column: number; code: string }[];
    };
    assert.equal(out.valid, false);
    assert.equal(out.errors, 3);
    assert.equal(out.warnings, 1);
    assert.ok(out.diagnostics.every((d) => d.line >= 1 && d.column >= 1 && d.code.startsWith('BH_')));
  });

  it('--output sarif is SARIF 2.1.0 with rule ids = error codes and repository-relative locations', () => {
    const r = bulkhead(['validate', '.', '--output', 'sarif'], bad);
    assert.equal(r.code, 1);
    const sarif = JSON.parse(r.stdout) as {
      version: string;
      runs: {
        tool: { driver: { name: string; rules: { id: string; shortDescription: { text: string } }[] } };
        results: {
          ruleId: string;
          ruleIndex: number;
          level: string;
          message: { text: string };
          locations: {
            physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number; startColumn: number } };
          }[];
        }[];
      }[];
    };
    assert.equal(sarif.version, '2.1.0');
    const run = sarif.runs[0]!;
    assert.equal(run.tool.driver.name, 'bulkhead');
    const ids = run.tool.driver.rules.map((x) => x.id);
    assert.deepEqual(ids, [...new Set(ids)].sort(), 'one rule per code');
    assert.equal(run.results.length, 4);
    for (const res of run.results) {
      assert.equal(run.tool.driver.rules[res.ruleIndex]!.id, res.ruleId);
      assert.ok(res.level === 'error' || res.level === 'warning');
      const loc = res.locations[0]!.physicalLocation;
      assert.match(loc.artifactLocation.uri, /^policies\/[a-z0-9-]+\.yaml$/);
      assert.ok(loc.region.startLine >= 1 && loc.region.startColumn >= 1);
    }
  });

  it('exits 2 on a missing directory or a bad option, without a stack trace', () => {
    const missing = bulkhead(['validate', join(tmpdir(), 'bh-no-such-repo')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /BH_NO_SUCH_DIR/);
    noStackTrace(missing.stderr);
    const badOption = bulkhead(['validate', '--output', 'xml']);
    assert.equal(badOption.code, 2);
    noStackTrace(badOption.stderr);
  });

  it('render prints the CRs the engine would apply, not labelled managed-by bulkhead, naming their repository', () => {
    const r = bulkhead(['render', 'policy-repo-template', '--source-repo', 'https://git.example/policies.git']);
    assert.equal(r.code, 0, r.stderr);
    const docs = loadAll(r.stdout) as {
      kind: string;
      metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
      status?: unknown;
    }[];
    assert.deepEqual(
      docs.map((d) => d.metadata.name),
      ['checkout-api', 'queue-worker', 'search-error-rate'],
    );
    for (const d of docs) {
      assert.equal(d.kind, 'HealthPolicy');
      assert.equal(d.metadata.labels?.['app.kubernetes.io/managed-by'], undefined);
      assert.match(d.metadata.annotations['bulkhead.dev/source']!, /^policies\/.+\.yaml:\d+$/);
      assert.equal(d.metadata.annotations['bulkhead.dev/source-repo'], 'https://git.example/policies.git');
      assert.equal(d.status, undefined);
    }
  });

  it('render refuses an invalid repository: problems on stderr, nothing on stdout, exit 1', () => {
    const r = bulkhead(['render', '.'], bad);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /BH_SECRET_IN_REPO/);
  });
});
