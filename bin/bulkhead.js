#!/usr/bin/env node
// The CLI runs the TypeScript sources through tsx's loader, so `npx bulkhead` works from a
// checkout with no build step. The container image runs the compiled dist/ instead.
// In a checkout, tools/cli.ts adds the dev commands (demo, local-cluster, admission serve,
// observe serve); a packaged CLI without tools/ falls back to the engine's own entry.
import { existsSync } from 'node:fs';
import { register } from 'tsx/esm/api';

register();
const devEntry = new URL('../tools/cli.ts', import.meta.url);
await import(existsSync(devEntry) ? devEntry.href : '../engine/src/main.ts');
