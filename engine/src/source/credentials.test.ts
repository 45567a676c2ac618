import { strict as assert } from 'node:assert';
import { credentialsFromSecretData, displayUrl, scrub, secretValues, withoutUserinfo } from './credentials.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('git credentials', () => {
  it('reads Flux-style secret keys', () => {
    assert.deepEqual(credentialsFromSecretData({ username: b64('u'), password: b64('p') }).auth, {
      kind: 'basic',
      username: 'u',
      password: 'p',
    });
    assert.deepEqual(credentialsFromSecretData({ token: b64('t0k\n') }).auth, {
      kind: 'basic',
      username: 'git',
      password: 't0k',
    });
    assert.deepEqual(credentialsFromSecretData({ bearerToken: b64('bt') }).auth, { kind: 'bearer', token: 'bt' });
    assert.equal(
      credentialsFromSecretData({ identity: b64('KEY'), known_hosts: b64('host ssh-ed25519 AAAA') }).auth.kind,
      'ssh',
    );
    assert.equal(credentialsFromSecretData(undefined).auth.kind, 'none');
  });
  it('refuses an ssh key without pinned host keys', () => {
    assert.throws(() => credentialsFromSecretData({ identity: b64('KEY') }), /known_hosts/);
  });
  it('scrubs userinfo, auth headers and known secret values from text', () => {
    const creds = credentialsFromSecretData({ token: b64('supersecret') });
    const text =
      'fatal: https://git:supersecret@example.com/x.git failed; Authorization: Basic Z2l0OnN1cGVyc2VjcmV0 supersecret';
    const out = scrub(text, secretValues(creds));
    assert.ok(!out.includes('supersecret') && !out.includes('Z2l0OnN1cGVyc2VjcmV0'), out);
    assert.match(out, /https:\/\/\*\*\*@example\.com/);
  });
});

describe('URL userinfo never leaves the engine (ADR 1413)', () => {
  it('moves https userinfo into basic auth and strips it from the URL', () => {
    const r = withoutUserinfo('https://bot:s3cr%40t@git.example.com/org/policies.git');
    assert.equal(r.url, 'https://git.example.com/org/policies.git');
    assert.deepEqual(r.credentials.auth, { kind: 'basic', username: 'bot', password: 's3cr@t' });
  });
  it('a user-only userinfo is kept as basic auth; the Secret’s credentials win', () => {
    assert.deepEqual(withoutUserinfo('https://ghp_abc@h/r.git').credentials.auth, {
      kind: 'basic',
      username: 'ghp_abc',
      password: '',
    });
    assert.deepEqual(withoutUserinfo('https://x:ghp_abc@h/r.git').credentials.auth, {
      kind: 'basic',
      username: 'x',
      password: 'ghp_abc',
    });
    const secret = { auth: { kind: 'bearer' as const, token: 't0ken' } };
    const r = withoutUserinfo('https://u:p@h/r.git', secret);
    assert.equal(r.url, 'https://h/r.git');
    assert.equal(r.credentials, secret);
  });
  it('leaves ssh users, file URLs and unparsable text as they are; displayUrl never shows userinfo', () => {
    assert.equal(withoutUserinfo('ssh://git@h/r.git').url, 'ssh://git@h/r.git');
    assert.equal(withoutUserinfo('file:///tmp/r.git').url, 'file:///tmp/r.git');
    assert.equal(withoutUserinfo('not a url').url, 'not a url');
    assert.equal(displayUrl('https://u:p@h/r.git'), 'https://h/r.git');
    assert.equal(displayUrl('ssh://git:pw@h/r.git'), 'ssh://***@h/r.git');
  });
});
