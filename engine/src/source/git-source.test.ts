import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../core/logger.js';
import { isBulkheadError } from '../core/errors.js';
import { createTestRepo, type TestRepo } from '../../../test/harness/git-repo.js';
import { startGitHttpServer, type GitHttpServer } from '../../../test/harness/git-http-server.js';
import { credentialsFromSecretData } from './credentials.js';
import { GitSource } from './git-source.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('GitSource (real git, real repositories)', function () {
  this.timeout(30_000);
  let repo: TestRepo;
  let cache: string;
  let src: GitSource;
  beforeEach(async () => {
    repo = await createTestRepo();
    cache = await mkdtemp(join(tmpdir(), 'bulkhead-cache-'));
    src = new GitSource({
      cacheDir: cache,
      logger: silentLogger(),
      env: { path: process.env.PATH ?? '', home: tmpdir() },
    });
  });
  afterEach(async () => {
    await repo.remove();
    await rm(cache, { recursive: true, force: true });
  });

  it('fetches a branch shallowly, then follows new commits', async () => {
    await repo.commit({ 'policies/a.yaml': 'a: 1\n' });
    const first = await repo.commit({ 'policies/b.yaml': 'b: 1\n' });
    const a1 = await src.fetch({ url: repo.url, ref: { branch: 'main' }, path: 'policies' });
    assert.equal(a1.revision, first);
    assert.equal(await readFile(join(a1.dir, 'b.yaml'), 'utf8'), 'b: 1\n');
    const { execFileSync } = await import('node:child_process');
    const depth = execFileSync('git', ['rev-list', '--count', 'HEAD'], {
      cwd: join(cache, 'work'),
      env: { PATH: process.env.PATH ?? '', GIT_CONFIG_GLOBAL: '/dev/null' },
    });
    assert.equal(String(depth).trim(), '1', 'shallow: one commit of history');
    const second = await repo.commit({ 'policies/b.yaml': 'b: 2\n' });
    const a2 = await src.fetch({ url: repo.url, ref: { branch: 'main' }, path: 'policies' });
    assert.equal(a2.revision, second);
    assert.notEqual(a2.pathTree, a1.pathTree);
    assert.equal(await readFile(join(a2.dir, 'b.yaml'), 'utf8'), 'b: 2\n');
  });

  it('gives the same path tree when only files outside the path change', async () => {
    await repo.commit({ 'policies/a.yaml': 'a: 1\n' });
    const a1 = await src.fetch({ url: repo.url, ref: { branch: 'main' }, path: 'policies' });
    await repo.commit({ 'records/c1/ns/pod-1234.yaml': 'r: 1\n' });
    const a2 = await src.fetch({ url: repo.url, ref: { branch: 'main' }, path: './policies/' });
    assert.notEqual(a2.revision, a1.revision);
    assert.equal(a2.pathTree, a1.pathTree);
  });

  it('keys the content on contentPaths only, so records/ commits are no work', async () => {
    await repo.commit({ 'policies/a.yaml': 'a: 1\n', 'bulkhead.yaml': 'x: 1\n' });
    const spec = { url: repo.url, ref: { branch: 'main' }, path: '.', contentPaths: ['policies', 'bulkhead.yaml'] };
    const a1 = await src.fetch(spec);
    await repo.commit({ 'records/c1/ns/pod-1234.yaml': 'r: 1\n' });
    const a2 = await src.fetch(spec);
    assert.equal(a2.pathTree, a1.pathTree);
    await repo.commit({ 'bulkhead.yaml': 'x: 2\n' });
    assert.notEqual((await src.fetch(spec)).pathTree, a1.pathTree);
  });

  it('follows a force-push that rewrote history', async () => {
    await repo.commit({ 'policies/a.yaml': 'a: 1\n' });
    await src.fetch({ url: repo.url, ref: { branch: 'main' }, path: 'policies' });
    const rewritten = await repo.forcePush({ 'policies/z.yaml': 'z: 1\n' });
    const a = await src.fetch({ url: repo.url, ref: { branch: 'main' }, path: 'policies' });
    assert.equal(a.revision, rewritten);
    assert.equal(await readFile(join(a.dir, 'z.yaml'), 'utf8'), 'z: 1\n');
    await assert.rejects(readFile(join(a.dir, 'a.yaml')), 'files of the old history are gone');
  });

  it('checks out a tag and a pinned commit', async () => {
    const c1 = await repo.commit({ 'policies/a.yaml': 'a: 1\n' });
    await repo.tag('v1');
    await repo.commit({ 'policies/a.yaml': 'a: 2\n' });
    const t = await src.fetch({ url: repo.url, ref: { tag: 'v1' }, path: 'policies' });
    assert.equal(t.revision, c1);
    const c = await src.fetch({ url: repo.url, ref: { commit: c1 }, path: 'policies' });
    assert.equal(c.revision, c1);
    assert.equal(await readFile(join(c.dir, 'a.yaml'), 'utf8'), 'a: 1\n');
  });

  it('reports a missing path as Stalled PathNotFound and a missing branch as RefNotFound', async () => {
    await repo.commit({ 'other/a.yaml': 'a: 1\n' });
    await assert.rejects(
      src.fetch({ url: repo.url, ref: { branch: 'main' }, path: 'policies' }),
      (e: unknown) => isBulkheadError(e) && e.reason === 'PathNotFound' && e.kind === 'Stalled',
    );
    await assert.rejects(
      src.fetch({ url: repo.url, ref: { branch: 'nope' }, path: '' }),
      (e: unknown) => isBulkheadError(e) && e.reason === 'RefNotFound',
    );
  });

  describe('over smart HTTP with TLS and a token', () => {
    let server: GitHttpServer;
    const token = 'tok-3f9a1c7e5b2d';
    beforeEach(async () => {
      server = await startGitHttpServer({ projectRoot: join(repo.bareDir, '..'), token });
    });
    afterEach(() => server.close());

    it('fetches with the token from the secret, and never puts it in an error', async () => {
      const head = await repo.commit({ 'policies/a.yaml': 'a: 1\n' });
      const url = `${server.url}/origin.git`;
      const creds = credentialsFromSecretData({ token: b64(token), 'ca.crt': b64(server.caCert) });
      const a = await src.fetch({ url, ref: { branch: 'main' }, path: 'policies' }, creds);
      assert.equal(a.revision, head);
      assert.ok(
        server.requests.length > 0 && server.requests.every((r) => r.auth === 'basic' && r.status === 200),
        JSON.stringify(server.requests),
      );
      const gitConfig = await readFile(join(cache, 'work', '.git', 'config'), 'utf8');
      assert.ok(
        !gitConfig.includes(token) && !gitConfig.includes(b64(`git:${token}`)),
        'no credential stored in .git/config',
      );

      const wrong = credentialsFromSecretData({ token: b64('wrong-token-value'), 'ca.crt': b64(server.caCert) });
      await assert.rejects(src.fetch({ url, ref: { branch: 'main' }, path: 'policies' }, wrong), (e: unknown) => {
        assert.ok(isBulkheadError(e));
        assert.equal(e.reason, 'AuthenticationFailed');
        assert.ok(!e.message.includes('wrong-token-value'));
        return true;
      });
    });

    it('accepts a bearer token, and refuses a server whose CA it was not given', async () => {
      const head = await repo.commit({ 'policies/a.yaml': 'a: 1\n' });
      const url = `${server.url}/origin.git`;
      const a = await src.fetch(
        { url, ref: { branch: 'main' }, path: 'policies' },
        credentialsFromSecretData({ bearerToken: b64(token), 'ca.crt': b64(server.caCert) }),
      );
      assert.equal(a.revision, head);
      assert.ok(server.requests.some((r) => r.auth === 'bearer'));
      await assert.rejects(
        src.fetch({ url, ref: { branch: 'main' }, path: 'policies' }, credentialsFromSecretData({ token: b64(token) })),
        (e: unknown) => isBulkheadError(e) && e.kind === 'Transient',
      );
    });
  });
});
