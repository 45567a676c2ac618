/**
 * Reads a JWT's claims WITHOUT verifying it. Never used to accept a token (TokenReview does
 * that): only to refuse one before a review would (expired, wrong audience), to say why in
 * metrics, and to cap how long an accepted token's review may be cached (never past its `exp`).
 */
export interface UnverifiedClaims {
  exp?: number;
  aud?: string[];
}

export function peekClaims(token: string): UnverifiedClaims | undefined {
  const part = token.split('.')[1];
  if (!part || part.length > 16_384) return undefined;
  try {
    const c = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { exp?: unknown; aud?: unknown };
    const out: UnverifiedClaims = {};
    if (typeof c.exp === 'number') out.exp = c.exp;
    if (typeof c.aud === 'string') out.aud = [c.aud];
    else if (Array.isArray(c.aud)) out.aud = c.aud.filter((a): a is string => typeof a === 'string');
    return out;
  } catch {
    return undefined;
  }
}
