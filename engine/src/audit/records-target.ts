import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { PolicySource } from '../core/api/index.js';
import type { Logger } from '../core/logger.js';
import { withoutUserinfo, type GitCredentials } from '../source/index.js';
import { RecordsRepo } from './records-repo.js';

/** Where quarantine records are committed: a repository, its branch, and how to write to it. */
export interface RecordsTarget {
  url: string;
  branch: string;
  /** Where `branch` starts from when the remote does not have it yet (the synced branch). */
  baseBranch?: string;
  /** The PolicySource it comes from, if any: a refused push is reported on it. */
  source?: string;
  credentials?: GitCredentials;
  /** The engine's git cache; each target gets its own clone folder beneath it. */
  cacheDir: string;
  signingKey?: string;
}

/**
 * Without `--records-repo`, records go to the repository the engine syncs: the first
 * PolicySource by name (a stable choice when there are several), on its `recordsBranch`, else
 * the branch it follows. A source pinned to a tag or a commit cannot take commits: no target
 * then, and records wait (audit Pending) until there is one. `secretName` is the Secret whose
 * git credentials the source uses; they are read by the caller.
 */
export function recordsSourceOf(
  sources: readonly PolicySource[],
): { url: string; branch: string; baseBranch?: string; source: string; secretName?: string } | undefined {
  const source = [...sources].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))[0];
  if (!source) return undefined;
  const synced = source.spec.ref?.branch;
  const branch = source.spec.recordsBranch ?? synced;
  if (!branch) return undefined;
  return {
    url: source.spec.url,
    branch,
    // A dedicated records branch the remote does not have yet starts at the synced branch.
    ...(source.spec.recordsBranch && synced && synced !== branch ? { baseBranch: synced } : {}),
    source: source.metadata.name ?? '',
    ...(source.spec.secretRef ? { secretName: source.spec.secretRef.name } : {}),
  };
}

/**
 * The records repository for the current target, looked up on each call (a fixed target, or a
 * function such as the synced PolicySource's): one RecordsRepo per url + branch, and a changed
 * target gets a fresh clone folder, so two targets never share a work tree.
 */
export function recordsRepoFor(opts: {
  target: RecordsTarget | (() => Promise<RecordsTarget | undefined>) | undefined;
  env: { path: string; home: string };
  logger: Logger;
}): () => Promise<RecordsRepo | undefined> {
  let repo: RecordsRepo | undefined;
  let repoKey = '';
  return async () => {
    const given = typeof opts.target === 'function' ? await opts.target() : opts.target;
    if (!given) return undefined;
    // Userinfo in the URL becomes credentials: the records clone never stores it (ADR 1413).
    const plain = withoutUserinfo(given.url, given.credentials);
    const target = {
      ...given,
      url: plain.url,
      ...(plain.credentials.auth.kind !== 'none' || plain.credentials.caCert ? { credentials: plain.credentials } : {}),
    };
    const key = `${target.url}#${target.branch}#${target.baseBranch ?? ''}#${target.source ?? ''}`;
    if (repo && key === repoKey) return repo;
    repoKey = key;
    repo = new RecordsRepo({
      url: target.url,
      branch: target.branch,
      ...(target.baseBranch ? { baseBranch: target.baseBranch } : {}),
      ...(target.source ? { source: target.source } : {}),
      cacheDir: join(target.cacheDir, 'records', createHash('sha256').update(key).digest('hex').slice(0, 16)),
      ...(target.credentials ? { credentials: target.credentials } : {}),
      ...(target.signingKey ? { signingKey: target.signingKey } : {}),
      env: opts.env,
      author: { name: 'bulkhead', email: 'bulkhead@noreply.invalid' },
      logger: opts.logger,
    });
    return repo;
  };
}
