export { RecordsRepo, type RecordsRepoOptions, type FileChange } from './records-repo.js';
export { flushOutbox, releaseFromGit, type OutboxDeps, type FlushResult } from './outbox.js';
export { recordDocument, recordUid, RECORD_UID_ANNOTATION } from './record-document.js';
export { commitMessage, releaseMessage } from './commit-message.js';
