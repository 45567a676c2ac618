// Quarantine stage: carry out a Verdict within the blast-radius budget (Quarantine CR, detach,
// isolate), release, the external verdict API, and the loops the engine runs them in.
export { executeVerdict, patchQuarantineStatus, type QuarantineDeps } from './executor.js';
export { listQuarantines } from './cluster-facts.js';
export { releaseQuarantine } from './release.js';
export { createVerdictRouter } from './verdict-api.js';
export {
  takeVerdict,
  type ActionType,
  type ExternalVerdict,
  type IntakeResult,
  type VerdictIntakeDeps,
} from './verdict-intake.js';
export { PodFactsCache, podReader } from './pod-facts-cache.js';
export { createQuarantineMetrics } from './metrics.js';
export { LeaderResume, resumeFromCluster } from './leader-resume.js';
export { siblingPods } from './sibling-pods.js';
export { watchAvoidedNodes } from './avoided-nodes.js';
export { startIsolationKeeper, type IsolationKeeper } from './isolation-keeper.js';
export { judgingPolicy, namespaceLabelsReader, policySelects } from './judging-policy.js';
