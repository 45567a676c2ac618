import { createHash } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { BulkheadError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { scrub, secretValues, withoutUserinfo, type GitCredentials, NO_CREDENTIALS } from './credentials.js';
import { buildGitEnv, GIT_ENV_NAMES } from './git-env.js';

export type GitRef = { branch: string } | { tag: string } | { commit: string };

export interface GitSourceSpec {
  url: string;
  ref: GitRef;
  /** Folder inside the repository that holds the policies ("" or "." for the root). */
  path: string;
  /**
   * Sub-paths of `path` whose content decides whether there is work (e.g. policies/ and
   * bulkhead.yaml, but not records/): `pathTree` hashes only these. All of `path` by default.
   */
  contentPaths?: string[];
}

/** What one fetch produced: a checked-out work tree at a revision. */
export interface Artifact {
  /** Commit sha checked out. */
  revision: string;
  /** Tree sha of `path` (or a hash of its `contentPaths`): equal means equal policies, whatever else changed. */
  pathTree: string;
  /** Absolute folder of `path` in the work tree. */
  dir: string;
  fetchedAt: Date;
}

export interface GitSourceOptions {
  /** Cache folder owned by this source (one per PolicySource). */
  cacheDir: string;
  logger: Logger;
  env: { path: string; home: string };
  timeoutMs?: number;
}

const TARGET_REF = 'refs/bulkhead/target';

/**
 * Fetches one ref of one repository into a cache folder and checks it out, shallow where
 * possible. The same code runs the first time and every time after (init once, then
 * fetch + detached checkout), and the fetch refspec is forced (`+`), so force-pushes and
 * rewritten history are followed rather than fatal. git's stderr becomes a typed error here,
 * at the one boundary, with credentials scrubbed from it.
 */
export class GitSource {
  private readonly workDir: string;
  private readonly secretsDir: string;
  /** The remote URL last set, so a poll does not spawn git just to read it back. */
  private remoteUrl: string | undefined;

  constructor(private readonly opts: GitSourceOptions) {
    this.workDir = join(opts.cacheDir, 'work');
    this.secretsDir = join(opts.cacheDir, 'secrets');
  }

  async fetch(spec: GitSourceSpec, secretCreds: GitCredentials = NO_CREDENTIALS): Promise<Artifact> {
    // Userinfo in the URL becomes credentials: the clone's .git/config never stores it (ADR 1413).
    const { url, credentials: creds } = withoutUserinfo(spec.url, secretCreds);
    const secrets = secretValues(creds);
    try {
      const git = await this.open(creds);
      await this.ensureRemote(git, url);
      const shallow = !('commit' in spec.ref);
      const refspec =
        'branch' in spec.ref
          ? `+refs/heads/${spec.ref.branch}:${TARGET_REF}`
          : 'tag' in spec.ref
            ? `+refs/tags/${spec.ref.tag}:${TARGET_REF}`
            : null;
      if (refspec) {
        await git.raw(['fetch', '--no-tags', '--prune', ...(shallow ? ['--depth', '1'] : []), 'origin', refspec]);
        // Nothing new (most polls): the work tree is already that commit; skip checkout + clean.
        const [target, head] = (await git.raw(['rev-parse', TARGET_REF, 'HEAD']).catch(() => '')).trim().split('\n');
        if (!target || target !== head) {
          await git.raw(['checkout', '--force', '--detach', TARGET_REF]);
          await git.raw(['clean', '-ffdxq']);
        }
      } else {
        const commit = (spec.ref as { commit: string }).commit;
        if (!/^[0-9a-f]{7,40}$/.test(commit)) {
          throw new BulkheadError({
            kind: 'Stalled',
            code: 'BH_SOURCE_BAD_REF',
            reason: 'InvalidRef',
            message: `"${commit}" is not a commit sha`,
          });
        }
        // A pinned commit cannot be fetched shallowly from every server: fetch the branches.
        await git.raw(['fetch', '--no-tags', 'origin', '+refs/heads/*:refs/remotes/origin/*']);
        await git.raw(['checkout', '--force', '--detach', commit]);
        await git.raw(['clean', '-ffdxq']);
      }
      const rel = normalizePath(spec.path);
      const revision = (await git.raw(['rev-parse', 'HEAD'])).trim();
      const pathTree = (await git.raw(['rev-parse', `HEAD:${rel}`]).catch(() => '')).trim();
      if (!pathTree) {
        throw new BulkheadError({
          kind: 'Stalled',
          code: 'BH_SOURCE_PATH_NOT_FOUND',
          reason: 'PathNotFound',
          message: `path "${spec.path}" does not exist at ${revision.slice(0, 12)}`,
        });
      }
      let key = pathTree;
      if (spec.contentPaths && spec.contentPaths.length > 0) {
        // One ls-tree lists the object ids of those that exist; missing ones simply do not appear.
        const paths = spec.contentPaths.map((sub) => [rel, normalizePath(sub)].filter(Boolean).join('/'));
        const listing = await git.raw(['ls-tree', '--full-tree', 'HEAD', '--', ...paths]);
        key = createHash('sha256').update(listing.trim().split('\n').sort().join('\n')).digest('hex');
      }
      return {
        revision,
        pathTree: key,
        dir: rel === '' ? this.workDir : join(this.workDir, rel),
        fetchedAt: new Date(),
      };
    } catch (err) {
      throw this.classify(err, spec, secrets);
    }
  }

  /** Removes the cache folder (a deleted PolicySource). */
  async remove(): Promise<void> {
    await rm(this.opts.cacheDir, { recursive: true, force: true });
  }

  private async open(creds: GitCredentials): Promise<SimpleGit> {
    await mkdir(this.workDir, { recursive: true });
    const env = await buildGitEnv(creds, { ...this.opts.env, secretsDir: this.secretsDir });
    const git = simpleGit({
      baseDir: this.workDir,
      allowEnvironment: [...GIT_ENV_NAMES],
      // Credentials travel as GIT_CONFIG_* (never argv); ssh keys need a custom ssh command.
      unsafe: { allowUnsafeConfigEnvCount: true, allowUnsafeSshCommand: true, allowUnsafeConfigPaths: true },
      timeout: { block: this.opts.timeoutMs ?? 60_000 },
    }).env(env);
    const isRepo = await stat(join(this.workDir, '.git')).then(
      () => true,
      () => false,
    );
    if (!isRepo) await git.raw(['init', '--quiet', '--initial-branch=bulkhead-cache']);
    return git;
  }

  private async ensureRemote(git: SimpleGit, url: string): Promise<void> {
    if (this.remoteUrl === url) return;
    const current = (await git.raw(['config', '--get', 'remote.origin.url']).catch(() => '')).trim();
    if (current !== url) {
      if (current) await git.raw(['remote', 'set-url', 'origin', url]);
      else await git.raw(['remote', 'add', 'origin', url]);
    }
    this.remoteUrl = url;
  }

  private classify(err: unknown, spec: GitSourceSpec, secrets: string[]): unknown {
    if (err instanceof BulkheadError) return err;
    const raw = errorMessage(err);
    const text = scrub(raw, secrets).trim().split('\n').slice(-3).join(' | ').slice(0, 500);
    const where = scrub(spec.url);
    const auth =
      /authentication failed|could not read username|401|403|permission denied \(publickey|host key verification failed/i.test(
        raw,
      );
    const missing =
      /couldn't find remote ref|not our ref|did not match any|reference is not a tree|unknown revision/i.test(raw);
    this.opts.logger.debug({ url: where, error: text }, 'git operation failed');
    if (auth)
      return new BulkheadError({
        kind: 'Transient',
        code: 'BH_SOURCE_AUTH',
        reason: 'AuthenticationFailed',
        message: `${where}: ${text}`,
      });
    if (missing)
      return new BulkheadError({
        kind: 'Transient',
        code: 'BH_SOURCE_REF_NOT_FOUND',
        reason: 'RefNotFound',
        message: `${where}: ${text}`,
      });
    return new BulkheadError({
      kind: 'Transient',
      code: 'BH_SOURCE_FETCH',
      reason: 'GitOperationFailed',
      message: `${where}: ${text}`,
    });
  }
}

function normalizePath(p: string): string {
  const s = p.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  if (s === '.' || s === '') return '';
  if (s.split('/').includes('..')) {
    throw new BulkheadError({
      kind: 'Stalled',
      code: 'BH_SOURCE_BAD_PATH',
      reason: 'InvalidPath',
      message: `path "${p}" leaves the repository`,
    });
  }
  return s;
}
