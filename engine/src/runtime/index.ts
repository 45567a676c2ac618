// The running engine: wires the stages into one process (loops, timers, leader gating, the
// plain-HTTP and HTTPS servers). Only cli/ imports this; nothing below imports it.
export { startEngine, type EngineDeps, type RunningEngine } from './start-engine.js';
export { RUN_DEFAULTS } from './defaults.js';
