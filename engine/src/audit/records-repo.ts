import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { BulkheadError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import {
  buildGitEnv,
  GIT_ENV_NAMES,
  NO_CREDENTIALS,
  scrub,
  secretValues,
  type GitCredentials,
} from '../source/index.js';

export interface RecordsRepoOptions {
  url: string;
  /** The branch records are committed to: the synced branch, or a dedicated records branch. */
  branch: string;
  /**
   * Where a records branch that does not exist yet starts from (the synced branch): its first
   * push creates it. Without one, a missing branch is an error.
   */
  baseBranch?: string;
  /** The PolicySource this target comes from, named in what a refused push asks the user to do. */
  source?: string;
  /** A folder owned by this writer (its own clone; never shared with the policy sync). */
  cacheDir: string;
  credentials?: GitCredentials;
  env: { path: string; home: string };
  author: { name: string; email: string };
  /** An SSH private key file: commits are then signed (gpg.format=ssh). */
  signingKey?: string;
  logger: Logger;
  /** Push attempts before giving up on this batch (it stays Pending and is retried later). */
  maxPushAttempts?: number;
  timeoutMs?: number;
}

export interface FileChange {
  path: string;
  /** New content, or null to delete. */
  content: string | null;
}

const REJECTED = /\[rejected\]|non-fast-forward|fetch first|failed to push some refs|cannot lock ref|stale info/i;
/**
 * The remote refused the push on purpose (a pre-receive hook, a protected branch): retrying or
 * rebasing changes nothing, the branch must change. Checked before REJECTED, whose "failed to
 * push some refs" these also print. Not every "[remote rejected]" is a refusal: a concurrent
 * push shows as one too ("cannot lock ref"), and is retried. Missing credentials or permission
 * (403) stay transient errors: another branch would not help there.
 */
const REFUSED = /hook declined|protected branch|not allowed to push|GH006|GL-HOOK-ERR/i;
const MISSING_BRANCH = /couldn't find remote ref/i;

export const PUSH_REFUSED_CODE = 'BH_AUDIT_PUSH_REFUSED';

/**
 * The engine's own clone of the policy repository, used only to write records. Every write
 * starts from the remote's tip (fetch + hard reset: anything local and unpushed from before a
 * crash is discarded, and its records are still Pending, so they are written again exactly
 * once). Pushes never force: a rejected push is fetched, rebased and retried, so a human's
 * concurrent commit is kept.
 */
export class RecordsRepo {
  private readonly workDir: string;
  private readonly secrets: string[];
  private gitPromise: Promise<SimpleGit> | undefined;

  constructor(private readonly opts: RecordsRepoOptions) {
    this.workDir = join(opts.cacheDir, 'work');
    this.secrets = secretValues(opts.credentials ?? NO_CREDENTIALS);
  }

  /** Fetches the branch and resets the work tree to it; returns the tip sha. */
  async sync(): Promise<string> {
    return this.guard('sync', async (git) => {
      const tip = await this.fetchTip(git);
      await git.raw(['checkout', '--force', '-B', this.opts.branch, tip]);
      await git.raw(['clean', '-ffdxq']);
      return (await git.raw(['rev-parse', 'HEAD'])).trim();
    });
  }

  /**
   * Fetches the records branch; a records branch the remote does not have yet starts at the
   * base branch's tip (the first push creates it). Returns the ref to check out.
   */
  private async fetchTip(git: SimpleGit): Promise<string> {
    const fetch = (branch: string) =>
      git.raw(['fetch', '--no-tags', '--prune', 'origin', `+refs/heads/${branch}:refs/remotes/origin/${branch}`]);
    try {
      await fetch(this.opts.branch);
      return `refs/remotes/origin/${this.opts.branch}`;
    } catch (err) {
      const base = this.opts.baseBranch;
      if (!base || base === this.opts.branch || !MISSING_BRANCH.test(errorMessage(err))) throw err;
      await fetch(base);
      this.opts.logger.info(
        { branch: this.opts.branch, base },
        'records branch not on the remote yet: starting it from the base branch',
      );
      return `refs/remotes/origin/${base}`;
    }
  }

  /** Content of a file at the local HEAD (after `sync`), or undefined. */
  async read(path: string): Promise<string | undefined> {
    return this.guard('read', async (git) => git.raw(['show', `HEAD:${path}`]).catch(() => undefined));
  }

  /** The newest commit that touched `path`. */
  async lastCommitOf(path: string): Promise<string | undefined> {
    return this.guard(
      'log',
      async (git) => (await git.raw(['log', '-1', '--format=%H', 'HEAD', '--', path])).trim() || undefined,
    );
  }

  /**
   * Whether a commit is in the history of the local HEAD (after `sync`): false for a commit made
   * on another branch (records written before recordsBranch changed) or unknown here.
   */
  async contains(commit: string): Promise<boolean> {
    if (!/^[0-9a-f]{7,64}$/.test(commit)) return false;
    return this.guard('merge-base', async (git) =>
      git.raw(['merge-base', '--is-ancestor', commit, 'HEAD']).then(
        () => true,
        () => false,
      ),
    );
  }

  /** Files under a folder at HEAD. */
  async list(prefix: string): Promise<string[]> {
    return this.guard('ls-tree', async (git) =>
      (await git.raw(['ls-tree', '-r', '--name-only', 'HEAD', '--', prefix])).split('\n').filter((l) => l.length > 0),
    );
  }

  /**
   * Writes the changes as ONE commit on top of the remote tip and pushes it, retrying a
   * rejected push after fetch + rebase. Returns the sha that reached the remote.
   */
  async commitAndPush(changes: readonly FileChange[], message: string): Promise<string> {
    if (changes.length === 0) throw new RangeError('nothing to commit');
    return this.guard('commit', async (git) => {
      await this.sync();
      await this.apply(git, changes);
      await this.commit(git, message);
      const attempts = this.opts.maxPushAttempts ?? 5;
      for (let attempt = 1; ; attempt++) {
        try {
          await git.raw(['push', '--porcelain', 'origin', `HEAD:refs/heads/${this.opts.branch}`]);
          return (await git.raw(['rev-parse', 'HEAD'])).trim();
        } catch (err) {
          const text = errorMessage(err);
          if (REFUSED.test(text)) throw this.refused(text);
          if (!REJECTED.test(text) || attempt >= attempts) throw err;
          this.opts.logger.info({ attempt }, 'records push rejected (the branch moved); rebasing and retrying');
          const tip = await this.fetchTip(git);
          try {
            await git.raw(['rebase', tip]);
          } catch {
            // Someone edited one of our record files meanwhile: start again from their tip,
            // with our changes written anew (they are ours to write, under records/<cluster>/).
            await git.raw(['rebase', '--abort']).catch(() => {});
            await this.sync();
            await this.apply(git, changes);
            await this.commit(git, message);
          }
        }
      }
    });
  }

  /** Where this repository writes: for status messages. */
  get target(): { url: string; branch: string; source?: string } {
    return {
      url: scrub(this.opts.url, this.secrets),
      branch: this.opts.branch,
      ...(this.opts.source ? { source: this.opts.source } : {}),
    };
  }

  /** A push the remote refused on purpose, as a Stalled error that says what to change. */
  private refused(gitOutput: string): BulkheadError {
    const text = scrub(gitOutput, this.secrets);
    // What the remote said: its hook's lines ("remote: ...") and the porcelain reason.
    const said = [
      ...text
        .split('\n')
        .filter((l) => l.startsWith('remote:'))
        .map((l) => l.slice('remote:'.length).trim())
        .filter((l) => l.length > 0),
      ...[...text.matchAll(/\[remote rejected\] \(([^)]*)\)/g)].map((m) => m[1]!),
    ]
      .slice(0, 4)
      .join('; ')
      .slice(0, 400);
    const fix = this.opts.source
      ? `set spec.recordsBranch on PolicySource ${this.opts.source} to a branch the engine may push to`
      : 'point --records-branch at a branch the engine may push to';
    return new BulkheadError({
      kind: 'Stalled',
      code: PUSH_REFUSED_CODE,
      reason: 'RecordsPushRefused',
      message:
        `the remote refused the records push to branch ${this.opts.branch} of ${scrub(this.opts.url, this.secrets)}` +
        `${said ? ` (${said})` : ''}: ${fix} (it is started from ${this.opts.baseBranch ?? this.opts.branch} if it does not exist);` +
        ' the records wait in the cluster (audit Pending) and are pushed once it is set',
    });
  }

  async remove(): Promise<void> {
    await rm(this.opts.cacheDir, { recursive: true, force: true });
  }

  private async apply(git: SimpleGit, changes: readonly FileChange[]): Promise<void> {
    const added: string[] = [];
    const removed: string[] = [];
    for (const c of changes) {
      if (c.path.split('/').includes('..') || c.path.startsWith('/'))
        throw new RangeError(`record path leaves the repository: ${c.path}`);
      if (c.content === null) {
        removed.push(c.path);
      } else {
        const abs = join(this.workDir, c.path);
        await mkdir(dirname(abs), { recursive: true });
        await writeFile(abs, c.content);
        added.push(c.path);
      }
    }
    // One git process per batch, not per file: a storm of records is one add and one commit.
    for (let i = 0; i < added.length; i += 500) await git.raw(['add', '--', ...added.slice(i, i + 500)]);
    for (let i = 0; i < removed.length; i += 500)
      await git.raw(['rm', '--quiet', '--ignore-unmatch', '--', ...removed.slice(i, i + 500)]);
  }

  private async commit(git: SimpleGit, message: string): Promise<void> {
    const sign = this.opts.signingKey ? ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${this.opts.signingKey}`] : [];
    // -F - would need stdin; the message is passed as one argv element, never through a shell.
    await git.raw([
      ...sign,
      'commit',
      '--quiet',
      '--no-verify',
      ...(this.opts.signingKey ? ['-S'] : []),
      '-m',
      message,
    ]);
  }

  private async open(): Promise<SimpleGit> {
    await mkdir(this.workDir, { recursive: true });
    const env = await buildGitEnv(this.opts.credentials ?? NO_CREDENTIALS, {
      ...this.opts.env,
      secretsDir: join(this.opts.cacheDir, 'secrets'),
    });
    const git = simpleGit({
      baseDir: this.workDir,
      allowEnvironment: [...GIT_ENV_NAMES],
      unsafe: { allowUnsafeConfigEnvCount: true, allowUnsafeSshCommand: true, allowUnsafeConfigPaths: true },
      config: [`user.name=${this.opts.author.name}`, `user.email=${this.opts.author.email}`, 'commit.gpgsign=false'],
      timeout: { block: this.opts.timeoutMs ?? 60_000 },
    }).env(env);
    const isRepo = await stat(join(this.workDir, '.git')).then(
      () => true,
      () => false,
    );
    if (!isRepo) {
      await git.raw(['init', '--quiet', `--initial-branch=${this.opts.branch}`]);
      await git.raw(['remote', 'add', 'origin', this.opts.url]);
    }
    return git;
  }

  private async guard<T>(op: string, fn: (git: SimpleGit) => Promise<T>): Promise<T> {
    this.gitPromise ??= this.open().catch((e: unknown) => {
      this.gitPromise = undefined;
      throw e;
    });
    try {
      return await fn(await this.gitPromise);
    } catch (err) {
      if (err instanceof BulkheadError || err instanceof RangeError) throw err;
      const raw = errorMessage(err);
      const text = scrub(raw, this.secrets).trim().split('\n').slice(-3).join(' | ').slice(0, 500);
      throw new BulkheadError({
        kind: 'Transient',
        code: 'BH_AUDIT_GIT',
        reason: 'AuditPushFailed',
        message: `records ${op} on ${scrub(this.opts.url, this.secrets)}: ${text}`,
      });
    }
  }
}
