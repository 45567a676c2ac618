export {
  createAdmissionApp,
  DEFAULT_MAX_BODY_BYTES,
  type AdmissionAppDeps,
  type Processor,
  type Processed,
} from './app.js';
export { createMutateProcessor, createValidateProcessor, type MutateDeps, type ValidateDeps } from './processors.js';
export { startAdmissionServer, type AdmissionServer } from './server.js';
export { startAdmission, type AdmissionRuntime, type AdmissionRuntimeOptions } from './runtime.js';
export { setBreakGlass, breakGlassReader, BREAK_GLASS_ANNOTATION } from './break-glass.js';
export { registerWebhooks } from './register.js';
export { decideGuard, SOURCE_ANNOTATIONS, type GuardConfig } from './guard/guard.js';
export { decideInjection, ANNOTATIONS, type SidecarSettings, type InjectionDecision } from './inject/patch.js';
export { PolicyIndex } from './inject/policy-index.js';
export type { InjectablePolicy } from './inject/policy.js';
export { SIDECAR_ENV, SIDECAR_TOKEN_AUDIENCE } from './sidecar-env.js';
export { TlsManager } from './tls/manager.js';
export {
  createMaterial,
  rotate,
  serviceSans,
  DEFAULT_TLS_TIMING,
  type TlsSettings,
  type TlsMaterial,
} from './tls/material.js';
export { kubeSecretStore } from './tls/secret-store.js';
export { patchCaBundles } from './tls/ca-bundle.js';
export { parseAdmissionReview, type AdmissionRequest, type AdmissionResponse, type AdmissionReview } from './review.js';
export {
  podsAwaitingSidecar,
  restartPlan,
  owningWorkload,
  type PodAwaitingSidecar,
  type WorkloadRef,
  type ExistingPod,
} from './existing-pods.js';
export { restartWorkloads, RESTARTED_AT_ANNOTATION, type RestartResult } from './rollout.js';
export {
  startRolloutController,
  findPodsAwaitingSidecar,
  type RolloutControllerOptions,
} from './rollout-controller.js';
export { excludedNamespaces, WEBHOOK_LABEL_SELECTOR, WEBHOOK_NAMES } from './webhook-config.js';
