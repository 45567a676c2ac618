// Admission stage: the HTTPS /mutate (sidecar injection) and /validate (GitOps guard) app,
// its webhook configurations, TLS and the rollout of pods created before a policy.
export { startAdmission, type AdmissionRuntime, type AdmissionRuntimeOptions } from './runtime.js';
export { setBreakGlass } from './break-glass.js';
export { PolicyIndex, compileMatch, matchSelects, type CompiledMatch } from './inject/policy-index.js';
export { SIDECAR_TOKEN_AUDIENCE } from './sidecar-env.js';
export { injectedSidecar } from './inject/patch.js';
export type { InjectablePolicy } from './inject/policy.js';
export { serviceSans, DEFAULT_TLS_TIMING } from './tls/material.js';
export { startRolloutController, findPodsAwaitingSidecar } from './rollout-controller.js';
export { startSidecarPullGuard } from './sidecar-pull-guard.js';
export { excludedNamespaces, WEBHOOK_LABEL_SELECTOR, WEBHOOK_NAMES } from './webhook-config.js';
export {
  admissionPathInUse,
  resolveAdmissionMode,
  ADMISSION_MODES,
  type AdmissionMode,
  type AdmissionModeFlag,
  type PathInUse,
} from './policy/mode.js';
export { policyRefs, deleteAdmissionObjects } from './policy/register-policies.js';
export {
  GITOPS_WRITER_EXAMPLES,
  guardMatchConditions,
  parseIdentities,
  type GuardWriters,
  type MatchCondition,
} from './guard/writers.js';
export { matchedPodCounts, type PodMeta } from './matched-pods.js';
