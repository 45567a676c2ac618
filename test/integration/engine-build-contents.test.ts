// The engine image ships what the Dockerfile's build stage compiles (`tsc -p
// tsconfig.build.json --outDir /out`, then /out/engine and /out/sidecar). Dev tooling lives in
// tools/ (ADR 0801), so that output must hold the engine and the sidecar and nothing else: no
// local cluster launcher, kwok or pod runner, no demo, no standalone serve commands. No Docker
// engine here, so this runs the same compile the image build runs and reads its file list.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = resolve('.');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** Dev tooling by name. `serve` only as a folder: observe/ and admission/server.ts ship. */
const DEV_TOOLING = [
  /(^|\/)tools\//,
  /local-cluster/,
  /(^|[/-])demo/,
  /pod-runner/,
  /kwok/,
  /reaper/,
  /(^|\/)serve\//,
  /(admission|observe|demo|local-cluster)-command/,
  /^sidecar\/build\./,
];

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

describe('engine image build output (the Dockerfile’s tsc step)', function () {
  this.timeout(180_000);
  let out: string;
  let files: string[];

  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'bh-engine-build-'));
    await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', out], { cwd: repoRoot });
    files = (await filesUnder(out)).sort();
    // What the image's final stage puts beside the compiled tree, so `--help` loads the same way.
    await copyFile(join(repoRoot, 'package.json'), join(out, 'package.json'));
    await symlink(join(repoRoot, 'node_modules'), join(out, 'node_modules'), 'dir');
  });
  after(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('holds the engine entry, every stage and the sidecar', async () => {
    const js = new Set(files.filter((f) => f.endsWith('.js')));
    const required = ['engine/src/main.js', 'engine/src/cli/program.js', 'engine/src/cli/run-command.js'];
    required.push('sidecar/src/main.js');
    // Each stage (and the runtime layer, wherever its index lives) by its index.ts in the sources.
    for (const f of await filesUnder(join(repoRoot, 'engine/src')))
      if (f.endsWith('/index.ts')) required.push(`engine/src/${f.replace(/\.ts$/, '.js')}`);
    for (const f of required) assert.ok(js.has(f), `${f} is missing from the build output`);
  });

  it('holds nothing but engine/ and sidecar/ sources, and no dev tooling', () => {
    const outside = files.filter((f) => !/^(engine|sidecar)\/src\//.test(f));
    assert.deepEqual(outside, [], 'compiled files from outside engine/src and sidecar/src');
    const dev = files.filter((f) => DEV_TOOLING.some((re) => re.test(f)));
    assert.deepEqual(dev, [], 'dev tooling in the engine build output');
    for (const f of files.filter((x) => x.endsWith('.js')))
      assert.ok(existsSync(join(repoRoot, f.replace(/\.js$/, '.ts'))), `${f} has no source in the checkout`);
  });

  it('the compiled `bulkhead --help` lists the shipped commands and no dev command', async () => {
    const { stdout } = await run(process.execPath, [join(out, 'engine/src/main.js'), '--help']);
    const commands = [...stdout.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]);
    for (const shipped of ['validate', 'render', 'plan', 'run', 'install', 'uninstall', 'break-glass'])
      assert.ok(commands.includes(shipped), `${shipped} missing from --help:\n${stdout}`);
    for (const dev of ['demo', 'local-cluster', 'admission', 'observe'])
      assert.ok(!commands.includes(dev), `dev command ${dev} in the engine's --help:\n${stdout}`);
  });
});
