import { strict as assert } from 'node:assert';
import { hmacSha256Hex, verifyWebhook } from './webhook-signature.js';

describe('verifyWebhook', () => {
  const secret = 's3cret-webhook';
  const body = Buffer.from('{"ref":"refs/heads/main"}');
  const table: { name: string; headers: Record<string, string>; ok: boolean; provider?: string }[] = [
    {
      name: 'GitHub, valid',
      headers: { 'x-hub-signature-256': `sha256=${hmacSha256Hex(secret, body)}` },
      ok: true,
      provider: 'github',
    },
    {
      name: 'GitHub, other secret',
      headers: { 'x-hub-signature-256': `sha256=${hmacSha256Hex('other', body)}` },
      ok: false,
    },
    {
      name: 'GitHub, truncated',
      headers: { 'x-hub-signature-256': `sha256=${hmacSha256Hex(secret, body).slice(0, 10)}` },
      ok: false,
    },
    { name: 'GitLab, valid', headers: { 'x-gitlab-token': secret }, ok: true, provider: 'gitlab' },
    { name: 'GitLab, wrong', headers: { 'x-gitlab-token': 'nope' }, ok: false },
    {
      name: 'generic, valid',
      headers: { 'x-signature-256': `sha256=${hmacSha256Hex(secret, body)}` },
      ok: true,
      provider: 'generic',
    },
    {
      name: 'generic, over another body',
      headers: { 'x-signature-256': `sha256=${hmacSha256Hex(secret, 'x')}` },
      ok: false,
    },
    { name: 'no header', headers: {}, ok: false },
  ];
  for (const t of table) {
    it(`${t.name} → ${t.ok ? 'accepted' : 'refused'}`, () => {
      const v = verifyWebhook(t.headers, body, secret);
      assert.equal(v.ok, t.ok);
      if (v.ok) assert.equal(v.provider, t.provider);
    });
  }
  it('refuses everything when no secret is configured', () => {
    assert.equal(verifyWebhook({ 'x-gitlab-token': '' }, body, undefined).ok, false);
  });
});
