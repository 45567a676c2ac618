// Apply stage: server-side apply + inventory prune, the PolicySource reconciler and its status.
export { executePlan, otherAppliers, type ApplyResult } from './applier.js';
export { PolicySourceReconciler, type SyncOutcome, type PolicyLoader, type ReconcilerDeps } from './reconciler.js';
export { LocalDirRunner } from './local-dir-runner.js';
export { SourceManager, CONTENT_PATHS, gitRefOf, type SourceManagerOptions } from './source-manager.js';
export { createSyncMetrics, type SyncMetrics } from './metrics.js';
