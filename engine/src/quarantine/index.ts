export {
  executeVerdict,
  NODE_TAINT_KEY,
  resumePending,
  enforce,
  patchQuarantineStatus,
  incidentId,
  type QuarantineDeps,
  type QuarantineResult,
  type TakenAction,
  type ActionOutcome,
} from './executor.js';
export {
  applyBudget,
  maxUnavailablePods,
  BUDGET_DEFAULTS,
  ALWAYS_PROTECTED,
  type BudgetDecision,
  type BudgetStop,
  type WorkloadFacts,
} from './budget.js';
export {
  buildQuarantine,
  quarantineName,
  recordPath,
  INCIDENT_LABEL,
  POLICY_LABEL,
  ACTION_LABEL,
} from './quarantine-object.js';
export { listQuarantines } from './cluster-facts.js';
export { planDetach, planReattach, ORIGINAL_LABELS_ANNOTATION, QUARANTINE_ANNOTATION } from './actions/detach-patch.js';
export { isolationNetworkPolicy, ISOLATION_POLICY_NAME } from './actions/isolation-policy.js';
export { releaseQuarantine, type ReleaseDeps } from './release.js';
export {
  createVerdictRouter,
  validateVerdict,
  capAction,
  VERDICTS_PATH,
  type ExternalVerdict,
  type VerdictApiDeps,
} from './verdict-api.js';
export { PodFactsCache, podReader, type PodFactsCacheOptions, type PodKey } from './pod-facts-cache.js';
export { createQuarantineMetrics, type QuarantineMetrics } from './metrics.js';
export { LeaderResume, resumeFromCluster } from './leader-resume.js';
