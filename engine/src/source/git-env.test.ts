import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentialsFromSecretData } from './credentials.js';
import { buildGitEnv } from './git-env.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('buildGitEnv', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulkhead-gitenv-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const opts = (): { path: string; home: string; secretsDir: string } => ({
    path: '/usr/bin',
    home: '/nonexistent',
    secretsDir: join(dir, 'secrets'),
  });

  it('is hermetic and never prompts', async () => {
    const env = await buildGitEnv(credentialsFromSecretData({}), opts());
    assert.equal(env.GIT_CONFIG_GLOBAL, '/dev/null');
    assert.equal(env.GIT_CONFIG_SYSTEM, '/dev/null');
    assert.equal(env.GIT_TERMINAL_PROMPT, '0');
    assert.equal(env.GIT_CONFIG_COUNT, undefined);
  });

  it('passes an https token as an extra header through GIT_CONFIG_*, not argv or URL', async () => {
    const env = await buildGitEnv(
      credentialsFromSecretData({ token: b64('t0ken'), 'ca.crt': b64('---CA---') }),
      opts(),
    );
    assert.equal(env.GIT_CONFIG_COUNT, '2');
    assert.equal(env.GIT_CONFIG_KEY_0, 'http.extraHeader');
    assert.equal(env.GIT_CONFIG_VALUE_0, `Authorization: Basic ${b64('git:t0ken')}`);
    assert.equal(env.GIT_CONFIG_KEY_1, 'http.sslCAInfo');
    assert.equal(await readFile(env.GIT_CONFIG_VALUE_1!, 'utf8'), '---CA---\n');
  });

  it('pins ssh host keys and writes the key 0600', async () => {
    const env = await buildGitEnv(
      credentialsFromSecretData({ identity: b64('PRIVATE'), known_hosts: b64('git.example ssh-ed25519 AAAA') }),
      opts(),
    );
    assert.match(env.GIT_SSH_COMMAND ?? '', /StrictHostKeyChecking=yes/);
    assert.match(env.GIT_SSH_COMMAND ?? '', /UserKnownHostsFile=/);
    assert.ok(!(env.GIT_SSH_COMMAND ?? '').includes('PRIVATE'));
    const key = join(dir, 'secrets', 'identity');
    assert.equal((await stat(key)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'secrets'))).mode & 0o777, 0o700);
  });
});
