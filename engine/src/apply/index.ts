// Apply stage: server-side apply + inventory prune, the PolicySource reconciler and its status.
export { PolicySourceReconciler, type PolicyLoader } from './reconciler.js';
export { LocalDirRunner } from './local-dir-runner.js';
export { SourceManager, CONTENT_PATHS } from './source-manager.js';
export { createSyncMetrics } from './metrics.js';
