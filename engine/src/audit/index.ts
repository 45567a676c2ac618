export { RecordsRepo, type RecordsRepoOptions, type FileChange } from './records-repo.js';
export { flushOutbox, releaseFromGit, type OutboxDeps, type FlushResult } from './outbox.js';
export { recordDocument, recordUid, RECORD_UID_ANNOTATION } from './record-document.js';
export { commitMessage, releaseMessage } from './commit-message.js';
export { createAuditMetrics, type AuditMetrics } from './metrics.js';
export { createOutboxDrain, type OutboxDrainOptions } from './outbox-drain.js';
export { DrainScheduler, type DrainSchedulerOptions } from './drain-scheduler.js';
export { recordsRepoFor, recordsSourceOf, type RecordsTarget } from './records-target.js';
