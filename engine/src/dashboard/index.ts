// The dashboard stage: a read-only page and JSON API over what the engine knows (the cluster's
// PolicySources, HealthPolicies and Quarantines, and the observe stage's health windows).
// The engine mounts `createDashboardRouter(deps)` with the token `readDashboardToken` reads.
export { createDashboardRouter } from './routes.js';
export { readDashboardToken } from './token-file.js';
