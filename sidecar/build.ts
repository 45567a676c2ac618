// `npx tsx sidecar/build.ts`: bundles the sidecar into one ESM file, dist/sidecar/sidecar.mjs (node built-ins only, gitignored), for its image.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

export async function buildSidecar(outfile = fileURLToPath(new URL('../dist/sidecar/sidecar.mjs', import.meta.url))): Promise<string> {
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

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await buildSidecar();
  process.stdout.write(`${out}\n`);
}
