import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GitCredentials } from './credentials.js';

/**
 * The environment every git child process gets, built from nothing (simple-git 4 strips
 * GIT_* anyway): no user or system config (hermetic: a developer's ~/.gitconfig cannot change
 * what the engine fetches), no terminal prompts (a missing credential fails fast instead of
 * hanging), and credentials passed as config through GIT_CONFIG_COUNT so they never appear
 * on a command line (visible in `ps`) or in a remote URL (stored in .git/config).
 */
export const GIT_ENV_NAMES = [
  'GIT_CONFIG_GLOBAL',
  'GIT_CONFIG_SYSTEM',
  'GIT_CONFIG_NOSYSTEM',
  'GIT_TERMINAL_PROMPT',
  'GIT_CONFIG_COUNT',
  'GIT_SSH_COMMAND',
  ...Array.from({ length: 4 }, (_, i) => [`GIT_CONFIG_KEY_${i}`, `GIT_CONFIG_VALUE_${i}`]).flat(),
] as const;

export interface GitEnvOptions {
  /** PATH (and HOME) to run git with; from the engine config. */
  path: string;
  home: string;
  /** Folder for key, known_hosts and CA files (0600), outside the work tree. */
  secretsDir: string;
}

export async function buildGitEnv(creds: GitCredentials, opts: GitEnvOptions): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    PATH: opts.path,
    HOME: opts.home,
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_SYSTEM: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
  };
  const config: [string, string][] = [];
  const a = creds.auth;
  if (a.kind === 'basic')
    config.push([
      'http.extraHeader',
      `Authorization: Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`,
    ]);
  if (a.kind === 'bearer') config.push(['http.extraHeader', `Authorization: Bearer ${a.token}`]);
  const needFiles = a.kind === 'ssh' || creds.caCert;
  if (needFiles) {
    await mkdir(opts.secretsDir, { recursive: true, mode: 0o700 });
    await chmod(opts.secretsDir, 0o700);
  }
  const writeSecret = async (name: string, content: string): Promise<string> => {
    const p = join(opts.secretsDir, name);
    await writeFile(p, content.endsWith('\n') ? content : `${content}\n`, { mode: 0o600 });
    return p;
  };
  if (creds.caCert) config.push(['http.sslCAInfo', await writeSecret('ca.crt', creds.caCert)]);
  if (a.kind === 'ssh') {
    const key = await writeSecret('identity', a.identity);
    const kh = await writeSecret('known_hosts', a.knownHosts);
    env.GIT_SSH_COMMAND = `ssh -i ${key} -o IdentitiesOnly=yes -o UserKnownHostsFile=${kh} -o StrictHostKeyChecking=yes -o BatchMode=yes`;
  }
  if (config.length > 0) {
    env.GIT_CONFIG_COUNT = String(config.length);
    config.forEach(([k, v], i) => {
      env[`GIT_CONFIG_KEY_${i}`] = k;
      env[`GIT_CONFIG_VALUE_${i}`] = v;
    });
  }
  return env;
}
