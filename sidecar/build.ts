// `npx tsx sidecar/build.ts`: bundles the sidecar into one ESM file, dist/sidecar/sidecar.mjs (node built-ins only, gitignored), for its image.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

export async function buildSidecar(
  outfile = fileURLToPath(new URL('../dist/sidecar/sidecar.mjs', import.meta.url)),
): Promise<string> {
  await build({
    entryPoints: [fileURLToPath(new URL('./src/main.ts', import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  return outfile;
}

// No top-level await: tests import this module, and mocha loads them through require().
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildSidecar().then(
    (out) => process.stdout.write(`${out}\n`),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
