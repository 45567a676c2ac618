import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
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
/** A record path the engine will not write: a symbolic link (or a non-directory) on its way (ADR 1402). */
export const PATH_UNSAFE_CODE = 'BH_AUDIT_PATH_UNSAFE';
/** The commit made does not hold exactly the records written: nothing is reported as pushed. */
export const COMMIT_MISMATCH_CODE = 'BH_AUDIT_COMMIT_MISMATCH';

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

  /**
   * Why each of these paths may not be written in the work tree (after `sync`): a component
   * that is a symbolic link, a file where a directory belongs, a path that leaves the
   * repository or enters .git. Paths that may be written are absent from the result.
   */
  async unsafePaths(paths: readonly string[]): Promise<Map<string, string>> {
    return this.guard('lstat', async () => {
      const out = new Map<string, string>();
      for (const p of paths) {
        const why = await this.unsafe(p);
        if (why) out.set(p, why);
      }
      return out;
    });
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
      let base = await this.sync();
      await this.apply(git, changes);
      await this.commit(git, message);
      // Only a commit verified to hold exactly these records is pushed and reported (ADR 1402):
      // never the tip that was there already, never one with other paths in it.
      let head = await this.verify(git, base, changes);
      const attempts = this.opts.maxPushAttempts ?? 5;
      for (let attempt = 1; ; attempt++) {
        try {
          await git.raw(['push', '--porcelain', 'origin', `${head}:refs/heads/${this.opts.branch}`]);
          return head;
        } catch (err) {
          const text = errorMessage(err);
          if (REFUSED.test(text)) throw this.refused(text);
          if (!REJECTED.test(text) || attempt >= attempts) throw err;
          this.opts.logger.info({ attempt }, 'records push rejected (the branch moved); rebasing and retrying');
          const tip = await this.fetchTip(git);
          try {
            base = (await git.raw(['rev-parse', tip])).trim();
            await git.raw(['rebase', tip]);
          } catch {
            // Someone edited one of our record files meanwhile: start again from their tip,
            // with our changes written anew (they are ours to write, under records/<cluster>/).
            await git.raw(['rebase', '--abort']).catch(() => {});
            base = await this.sync();
            await this.apply(git, changes);
            await this.commit(git, message);
          }
          head = await this.verify(git, base, changes);
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
      // The work tree is the repository's content: a committed symlink must not send a write
      // (or a delete) outside it, or onto another file (ADR 1402).
      const why = await this.unsafe(c.path);
      if (why) throw this.pathUnsafe(c.path, why);
      if (c.content === null) {
        removed.push(c.path);
      } else {
        await this.writeConfined(c.path, c.content);
        added.push(c.path);
      }
    }
    // One git process per batch, not per file: a storm of records is one add and one commit.
    for (let i = 0; i < added.length; i += 500) await git.raw(['add', '--', ...added.slice(i, i + 500)]);
    for (let i = 0; i < removed.length; i += 500)
      await git.raw(['rm', '--quiet', '--ignore-unmatch', '--', ...removed.slice(i, i + 500)]);
  }

  /** Why `path` may not be written (lstat of every component, none may be a link), or undefined. */
  private async unsafe(path: string): Promise<string | undefined> {
    const parts = path.split('/');
    if (path.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..'))
      return 'it leaves the repository';
    if (parts.some((p) => p.toLowerCase() === '.git')) return 'it is inside .git';
    let abs = this.workDir;
    for (let i = 0; i < parts.length; i++) {
      abs = join(abs, parts[i]!);
      const st = await lstat(abs).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return undefined;
        throw e;
      });
      if (!st) return undefined; // the rest does not exist yet: the engine creates it
      const sub = parts.slice(0, i + 1).join('/');
      if (st.isSymbolicLink()) return `${sub} is a symbolic link in the repository`;
      if (i < parts.length - 1 && !st.isDirectory()) return `${sub} is not a directory`;
      if (i === parts.length - 1 && !st.isFile()) return `${sub} is not a regular file`;
    }
    return undefined;
  }

  /**
   * Writes a checked path: missing directories one at a time (each one new, so no link can
   * stand in for it), the file with O_NOFOLLOW (a link put there meanwhile fails the open).
   */
  private async writeConfined(path: string, content: string): Promise<void> {
    const parts = path.split('/');
    let abs = this.workDir;
    for (const dir of parts.slice(0, -1)) {
      abs = join(abs, dir);
      await mkdir(abs).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST' || !(await lstat(abs)).isDirectory()) throw e;
      });
    }
    const f = await open(
      join(abs, parts.at(-1)!),
      constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
      0o644,
    );
    try {
      await f.writeFile(content);
    } finally {
      await f.close();
    }
  }

  /**
   * The commit at HEAD is one new commit on `base` holding exactly `changes`: every path it
   * touches is one of them, each written file is a regular blob with that content, each deleted
   * one is gone. Returns its sha; anything else is a COMMIT_MISMATCH error (nothing is pushed).
   */
  private async verify(git: SimpleGit, base: string, changes: readonly FileChange[]): Promise<string> {
    const head = (await git.raw(['rev-parse', 'HEAD'])).trim();
    const parents = (await git.raw(['rev-list', '--parents', '-n', '1', head])).trim().split(' ').slice(1);
    const mismatch = (what: string) =>
      new BulkheadError({
        kind: 'Transient',
        code: COMMIT_MISMATCH_CODE,
        reason: 'RecordsCommitMismatch',
        message: `records commit on ${scrub(this.opts.url, this.secrets)} ${what}: nothing was pushed`,
      });
    if (head === base) throw mismatch('was not made (HEAD is still the tip it started from)');
    if (parents.length !== 1 || parents[0] !== base)
      throw mismatch(`${head.slice(0, 12)} is not one commit on ${base.slice(0, 12)}`);
    const expected = new Map(changes.map((c) => [c.path, c.content]));
    const touched = (
      await git.raw(['diff-tree', '-r', '-z', '--no-renames', '--name-only', '--no-commit-id', base, head])
    )
      .split('\0')
      .filter((l) => l.length > 0);
    const stray = touched.filter((p) => !expected.has(p));
    if (stray.length > 0) throw mismatch(`also changes ${stray.slice(0, 3).join(', ')}`);
    const format = (await git.raw(['rev-parse', '--show-object-format']).catch(() => 'sha1')).trim();
    const paths = [...expected.keys()];
    const tree = new Map<string, { mode: string; type: string; oid: string }>();
    for (let i = 0; i < paths.length; i += 500) {
      const out = await git.raw(['ls-tree', '-z', '--full-tree', head, '--', ...paths.slice(i, i + 500)]);
      for (const entry of out.split('\0').filter((l) => l.length > 0)) {
        const tab = entry.indexOf('\t');
        const [mode, type, oid] = entry.slice(0, tab).split(' ');
        tree.set(entry.slice(tab + 1), { mode: mode!, type: type!, oid: oid! });
      }
    }
    for (const [path, content] of expected) {
      const e = tree.get(path);
      if (content === null) {
        if (e) throw mismatch(`still has ${path}`);
        continue;
      }
      const body = Buffer.from(content, 'utf8');
      const oid = createHash(format === 'sha256' ? 'sha256' : 'sha1')
        .update(`blob ${body.length}\0`)
        .update(body)
        .digest('hex');
      if (!e || e.mode !== '100644' || e.type !== 'blob' || e.oid !== oid)
        throw mismatch(`does not hold ${path} as written${e ? ` (${e.mode} ${e.type})` : ''}`);
    }
    return head;
  }

  private pathUnsafe(path: string, why: string): BulkheadError {
    return new BulkheadError({
      kind: 'Stalled',
      code: PATH_UNSAFE_CODE,
      reason: 'RecordPathUnsafe',
      message:
        `record ${path} is not written to ${scrub(this.opts.url, this.secrets)} branch ${this.opts.branch}: ${why}` +
        ' (writes never follow links); replace it with a plain directory or file in git',
    });
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
