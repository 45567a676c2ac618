// Issue 19: the CLI as a package. `npm pack` (its prepack compiles with tsc) yields a tarball;
// installed with `npm install <tarball>` into a folder outside the checkout, its `bulkhead` runs
// the compiled JavaScript with production dependencies only (no tsx, no TypeScript sources, no
// dev tooling), prints its version, validates a policy repository, and `install --dry-run`
// finds deploy/ inside the package and has the real apiserver accept it.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { renderKustomization, DEFAULT_MANIFEST_DIR } from '../../engine/src/cli/install/manifests.js';
import { getCluster } from '../harness/index.js';

const run = promisify(execFile);

describe('the CLI as an npm package (npm pack → npm install in a folder outside the checkout)', function () {
  this.timeout(600_000);
  let tmp: string;
  let app: string;
  let pkgDir: string;
  let version: string;

  const npx = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      // `--no`: never fetch a package; `--` so npx passes --version and --help on to bulkhead.
      const { stdout, stderr } = await run('npx', ['--no', '--', 'bulkhead', ...args], {
        cwd: app,
        maxBuffer: 8 << 20,
        timeout: 240_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };

  before(async () => {
    version = (JSON.parse(await readFile('package.json', 'utf8')) as { version: string }).version;
    tmp = await mkdtemp(join(tmpdir(), 'bh-cli-package-'));
    const { stdout } = await run('npm', ['pack', '--pack-destination', tmp, '--json'], {
      maxBuffer: 16 << 20,
      timeout: 300_000,
    });
    const [packed] = JSON.parse(stdout) as { filename: string }[];
    app = join(tmp, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'uses-bulkhead', private: true }));
    await run(
      'npm',
      ['install', join(tmp, packed!.filename), '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'],
      { cwd: app, maxBuffer: 16 << 20, timeout: 300_000 },
    );
    pkgDir = join(app, 'node_modules', 'bulkhead');
  });

  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('holds compiled JavaScript, deploy/ and the chart; no TypeScript, no dev tooling, no dev dependencies', async () => {
    const files = (await readdir(pkgDir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => relative(pkgDir, join(e.parentPath, e.name)));
    assert.ok(files.includes('dist/engine/src/main.js'));
    assert.ok(files.includes('deploy/kustomization.yaml'));
    assert.ok(files.includes('charts/bulkhead/Chart.yaml'));
    assert.deepEqual(
      files.filter((f) => f.endsWith('.ts') || f.endsWith('.map') || /^(tools|test|bench|schemas)\//.test(f)),
      [],
    );
    const installed = await readdir(join(app, 'node_modules'));
    for (const dev of ['tsx', 'esbuild', 'typescript', 'mocha', 'eslint'])
      assert.ok(!installed.includes(dev), `${dev} (a dev dependency) was installed`);
  });

  it('`npx bulkhead --version` prints the package version; --help lists the shipped commands only', async () => {
    const v = await npx('--version');
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.trim(), version);
    const help = await npx('--help');
    assert.equal(help.code, 0, help.stderr);
    for (const c of ['validate', 'render', 'run', 'plan', 'install', 'uninstall', 'break-glass'])
      assert.match(help.stdout, new RegExp(`^  ${c}\\b`, 'm'), `no ${c} in --help`);
    for (const c of ['demo', 'local-cluster', 'admission', 'observe'])
      assert.doesNotMatch(help.stdout, new RegExp(`^  ${c}\\b`, 'm'), `dev command ${c} in a package`);
  });

  it('`npx bulkhead validate` validates a policy repository', async () => {
    const repo = join(tmp, 'policies');
    await cp('policy-repo-template', repo, { recursive: true });
    const ok = await npx('validate', repo);
    assert.equal(ok.code, 0, `${ok.stdout}\n${ok.stderr}`);
    assert.match(ok.stdout, /valid \(3 policies, 0 errors/);
    await writeFile(join(repo, 'policies', 'broken.yaml'), 'apiVersion: bulkhead.dev/v1alpha1\nkind: HealthPolicy\n');
    const bad = await npx('validate', repo);
    assert.equal(bad.code, 1, `${bad.stdout}\n${bad.stderr}`);
  });

  it("`npx bulkhead install --dry-run` applies the package's own deploy/ as a server-side dry run", async () => {
    const r = await npx('install', '--dry-run', '-o', 'json', '--kubeconfig', getCluster().kubeconfigPath);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const result = JSON.parse(r.stdout) as { dryRun: boolean; applied: { key: string }[] };
    assert.equal(result.dryRun, true);
    // Every object of deploy/ (the package's is the checkout's) plus the dashboard Secret.
    const want = (await renderKustomization(DEFAULT_MANIFEST_DIR)).length + 1;
    assert.equal(result.applied.length, want, r.stdout);
  });
});
