import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Hermetic git for tests: no user or system config, fixed identity and dates come from the
 * clock, so a developer's ~/.gitconfig (signing, hooks, default branch) changes nothing.
 */
export const HERMETIC_GIT_ENV: Record<string, string> = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: tmpdir(),
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_SYSTEM: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.invalid',
  GIT_COMMITTER_NAME: 'Test Author',
  GIT_COMMITTER_EMAIL: 'author@example.invalid',
};

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: HERMETIC_GIT_ENV, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/**
 * A fresh bare repository plus a work clone to commit from: `commit({path: content|null})`
 * writes (null deletes) files and pushes to the bare repo's `main`. `url` is its file:// URL.
 */
export interface TestRepo {
  bareDir: string;
  workDir: string;
  url: string;
  commit(files: Record<string, string | null>, message?: string): Promise<string>;
  /** Rewrites history: a new root commit with these files, force-pushed over main. */
  forcePush(files: Record<string, string>, message?: string): Promise<string>;
  tag(name: string): Promise<void>;
  head(): Promise<string>;
  remove(): Promise<void>;
}

export async function createTestRepo(prefix = 'bulkhead-repo-'): Promise<TestRepo> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const bareDir = join(root, 'origin.git');
  const workDir = join(root, 'work');
  await run('git', ['init', '--quiet', '--bare', '--initial-branch=main', bareDir], { env: HERMETIC_GIT_ENV });
  await run('git', ['init', '--quiet', '--initial-branch=main', workDir], { env: HERMETIC_GIT_ENV });
  await git(workDir, 'remote', 'add', 'origin', bareDir);
  // Lets servers (http-backend) export it; harmless for file://.
  await writeFile(join(bareDir, 'git-daemon-export-ok'), '');
  const write = async (files: Record<string, string | null>): Promise<void> => {
    for (const [p, content] of Object.entries(files)) {
      const full = join(workDir, p);
      if (content === null) await unlink(full).catch(() => {});
      else {
        await mkdir(dirname(full), { recursive: true });
        await writeFile(full, content);
      }
    }
  };
  const repo: TestRepo = {
    bareDir,
    workDir,
    url: `file://${bareDir}`,
    async commit(files, message = 'update policies') {
      await write(files);
      await git(workDir, 'add', '-A');
      await git(workDir, 'commit', '--quiet', '--allow-empty', '-m', message);
      await git(workDir, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');
      return repo.head();
    },
    async forcePush(files, message = 'rewrite history') {
      await git(workDir, 'checkout', '--quiet', '--orphan', `rewrite-${Date.now()}`);
      await git(workDir, 'rm', '-r', '--quiet', '--cached', '--ignore-unmatch', '.');
      await git(workDir, 'clean', '-fdxq');
      await write(files);
      await git(workDir, 'add', '-A');
      await git(workDir, 'commit', '--quiet', '-m', message);
      await git(workDir, 'push', '--quiet', '--force', 'origin', 'HEAD:refs/heads/main');
      return repo.head();
    },
    async tag(name) {
      await git(workDir, 'tag', name);
      await git(workDir, 'push', '--quiet', 'origin', `refs/tags/${name}`);
    },
    head: () => git(workDir, 'rev-parse', 'HEAD'),
    remove: () => rm(root, { recursive: true, force: true }),
  };
  return repo;
}
