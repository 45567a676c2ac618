import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const DEMO_NAMESPACE = 'shop';
/** What the template's checkout-api policy selects. */
export const DEMO_APP_LABELS = {
  'app.kubernetes.io/name': 'checkout',
  tier: 'api',
  'app.kubernetes.io/version': '1.4.2',
};
export const DEMO_POLICY = 'checkout-api';

/** Hermetic git, with a platform engineer as the author of the policy commits. */
const GIT_ENV = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/tmp',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_SYSTEM: '/dev/null',
  GIT_AUTHOR_NAME: 'Platform Team',
  GIT_AUTHOR_EMAIL: 'platform@example.invalid',
  GIT_COMMITTER_NAME: 'Platform Team',
  GIT_COMMITTER_EMAIL: 'platform@example.invalid',
});

/**
 * A bare policy repository seeded from policy-repo-template/, with the checkout policy tuned
 * for a demo that finishes in seconds (probe every second) and without the external forward
 * endpoint (no network here). Returns its file:// URL, a work clone and the commit.
 */
export async function buildDemoRepo(
  dir: string,
  template: string,
): Promise<{ url: string; bareDir: string; workDir: string; head: string }> {
  const bareDir = join(dir, 'origin.git');
  const workDir = join(dir, 'work');
  await mkdir(dir, { recursive: true });
  const git = (cwd: string, ...args: string[]) =>
    run('git', args, { cwd, env: GIT_ENV() }).then((r) => r.stdout.trim());
  await git(dir, 'init', '-q', '--bare', '--initial-branch=main', bareDir);
  await cp(template, workDir, { recursive: true });
  const policy = join(workDir, 'policies', `${DEMO_POLICY}.yaml`);
  const text = await readFile(policy, 'utf8');
  const tuned = text
    .replace(
      /\n {4}interval: 5s\n {4}timeout: 1s\n/,
      '\n    interval: 1s # demo: probe every second (the template says 5s)\n    timeout: 500ms\n',
    )
    .replace(/\n {2}forward:\n(?: {4}.*\n?)*/, '\n');
  if (tuned === text)
    throw new Error(`${policy}: the demo could not tune the template policy (did its probe block change?)`);
  await writeFile(policy, tuned);
  await git(workDir, 'init', '-q', '--initial-branch=main');
  await git(workDir, 'add', '-A');
  await git(workDir, 'commit', '-qm', 'Policies for the shop: quarantine failing checkout pods');
  await git(workDir, 'remote', 'add', 'origin', bareDir);
  await git(workDir, 'push', '-q', 'origin', 'main');
  return { url: `file://${bareDir}`, bareDir, workDir, head: await git(workDir, 'rev-parse', 'HEAD') };
}
