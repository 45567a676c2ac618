// Source stage: git sync (simple-git), local folder watch (chokidar), push-webhook trigger.
export { GitSource, type Artifact, type GitRef, type GitSourceSpec, type GitSourceOptions } from './git-source.js';
export { DirSource } from './dir-source.js';
export { Coalescer } from './coalescer.js';
export { verifyWebhook, hmacSha256Hex, type WebhookVerdict } from './webhook-signature.js';
export { credentialsFromSecretData, scrub, NO_CREDENTIALS, type GitCredentials, type GitAuth } from './credentials.js';
