import { strict as assert } from 'node:assert';
import { credentialsFromSecretData, scrub, secretValues } from './credentials.js';

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
