// The dashboard stage: a read-only page and JSON API over what the engine knows (the cluster's
// PolicySources, HealthPolicies and Quarantines, and the observe stage's health windows).
// The engine mounts `createDashboardRouter(deps)`; everything else is exported for tests.
export { createDashboardRouter, DASHBOARD_PREFIX, CSP, type DashboardDeps } from './routes.js';
export {
  decideAuth,
  secretsEqual,
  sessionValue,
  readCookie,
  SESSION_COOKIE,
  type AuthDecision,
  type AuthRequest,
} from './auth.js';
export { buildSnapshot, type SnapshotInput, type Listed, type PodQuery } from './snapshot.js';
export { buildTimeline, niceCeil } from './timeline.js';
export { readDashboardToken, normalizeToken, MIN_TOKEN_LENGTH } from './token-file.js';
export { readClusterLists, DEFAULT_LIMITS, type ClusterLists, type ListLimits } from './cluster-lists.js';
export type * from './view-model.js';
