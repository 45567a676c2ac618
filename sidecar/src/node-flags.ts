/**
 * How the sidecar container should start node: `node --jitless --max-semi-space-size=1
 * sidecar.mjs` (for the injected container's command). The sidecar's work is a probe and a
 * small JSON post per second: the interpreter is plenty, and without the JIT its RSS stays
 * ~6 MB lower and flat (measured: ~45.5 MiB steady vs ~51.5 MiB once TurboFan kicks in after
 * ~40 s; bench/sidecar.bench.ts measures both). A 1 MiB young generation keeps the heap small.
 */
export const SIDECAR_NODE_FLAGS: readonly string[] = ['--jitless', '--max-semi-space-size=1'];
