// Audit stage: Quarantines whose git record is pending (the outbox), committed under records/
// by one drain loop, and records removed in git read back as releases.
export { createAuditMetrics } from './metrics.js';
export { createOutboxDrain } from './outbox-drain.js';
export { DrainScheduler } from './drain-scheduler.js';
export { recordsRepoFor, recordsSourceOf, type RecordsTarget } from './records-target.js';
export { releaseFromGit } from './outbox.js';
