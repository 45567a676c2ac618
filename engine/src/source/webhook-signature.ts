import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Push-webhook authentication. Three schemes, checked against the raw request body:
 *   GitHub   X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>
 *   GitLab   X-Gitlab-Token: <secret>   (GitLab sends the shared secret itself)
 *   generic  X-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>  (curl, Gitea, CI jobs)
 * Comparisons are constant-time. The result names why a request was refused, for the log
 * (never the secret or the signature itself).
 */
export type WebhookVerdict = { ok: true; provider: 'github' | 'gitlab' | 'generic' } | { ok: false; reason: string };

type Headers = Record<string, string | string[] | undefined>;

const header = (h: Headers, name: string): string | undefined => {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
};

const safeEqual = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export function hmacSha256Hex(secret: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

export function verifyWebhook(headers: Headers, rawBody: Buffer, secret: string | undefined): WebhookVerdict {
  if (!secret) return { ok: false, reason: 'no webhook secret configured' };
  const gh = header(headers, 'x-hub-signature-256');
  if (gh !== undefined) {
    return safeEqual(gh, `sha256=${hmacSha256Hex(secret, rawBody)}`)
      ? { ok: true, provider: 'github' }
      : { ok: false, reason: 'github signature mismatch' };
  }
  const gl = header(headers, 'x-gitlab-token');
  if (gl !== undefined)
    return safeEqual(gl, secret) ? { ok: true, provider: 'gitlab' } : { ok: false, reason: 'gitlab token mismatch' };
  const generic = header(headers, 'x-signature-256');
  if (generic !== undefined) {
    return safeEqual(generic, `sha256=${hmacSha256Hex(secret, rawBody)}`)
      ? { ok: true, provider: 'generic' }
      : { ok: false, reason: 'signature mismatch' };
  }
  return { ok: false, reason: 'no signature header' };
}
