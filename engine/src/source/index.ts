// Source stage: git sync (simple-git), local folder watch (chokidar), push-webhook trigger.
export { GitSource, type Artifact, type GitRef } from './git-source.js';
export { DirSource } from './dir-source.js';
export { Coalescer } from './coalescer.js';
export { verifyWebhook } from './webhook-signature.js';
export {
  credentialsFromSecretData,
  displayUrl,
  scrub,
  secretValues,
  withoutUserinfo,
  NO_CREDENTIALS,
  type GitCredentials,
} from './credentials.js';
export { buildGitEnv, GIT_ENV_NAMES } from './git-env.js';
