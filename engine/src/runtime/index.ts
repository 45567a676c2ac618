// The running engine: wires the stages into one process (loops, timers, leader gating, the
// plain-HTTP and HTTPS servers). cli/ imports it (and tools/ for its defaults); no stage does.
export { startEngine, type EngineDeps, type RunningEngine } from './start-engine.js';
export { RUN_DEFAULTS } from './defaults.js';
export { watchHealthPolicies } from './health-policy-watch.js';
