#!/usr/bin/env node
// The CLI runs the TypeScript sources through tsx's loader, so `npx bulkhead` works from a
// checkout with no build step. The container image runs the compiled dist/ instead.
import { register } from 'tsx/esm/api';

register();
await import('../engine/src/main.ts');
