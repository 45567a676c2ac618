#!/usr/bin/env node
// The CLI's entry. In a checkout (tools/ beside bin/) it runs the TypeScript sources through
// tsx's loader, with the dev commands tools/cli.ts adds (demo, local-cluster, admission serve,
// observe serve), so `npx bulkhead` needs no build step. The npm package (`npm pack`: the tsc
// output under dist/, deploy/ and charts/, production dependencies only; ADR 1903) has no tools/
// and runs the compiled engine CLI, as the image does.
import { existsSync } from 'node:fs';

const devEntry = new URL('../tools/cli.ts', import.meta.url);
if (existsSync(devEntry)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(devEntry.href);
} else {
  await import('../dist/engine/src/main.js');
}
