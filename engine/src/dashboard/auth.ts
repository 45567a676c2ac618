import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Dashboard access: one bearer token (the engine reads it from a file). A browser cannot send
 * an Authorization header on a navigation, so it brings the token once as `?token=`, gets an
 * HttpOnly, SameSite=Strict session cookie, and is redirected to the same URL without it.
 *
 * The cookie holds an HMAC of the token, not the token: a leaked cookie is not the token
 * (it cannot be used as a bearer elsewhere), and rotating the token ends every session.
 * Every comparison is constant-time over fixed-length digests, so neither the content nor
 * the length of a guess leaks through timing.
 */
export const SESSION_COOKIE = 'bulkhead_dashboard';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time equality of two secrets of any length. */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** The session cookie value for a token. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('bulkhead-dashboard-session/v1').digest('base64url');
}

export type AuthDecision =
  | { ok: true; via: 'bearer' | 'cookie' }
  /** A valid `?token=`: set the cookie and redirect to `location` (the URL without the token). */
  | { ok: true; via: 'query'; setCookie: string; location: string }
  | { ok: false; reason: 'missing' | 'bad-bearer' | 'bad-cookie' | 'bad-query' };

export interface AuthRequest {
  /** The path as the client sent it, e.g. /dashboard/ (no query). */
  path: string;
  /** The raw query string without '?'. */
  querystring: string;
  authorization?: string;
  cookie?: string;
  secure: boolean;
}

/** Reads one cookie from a Cookie header (first occurrence wins, as browsers send the most specific first). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/**
 * Pure decision for one request. Order: an explicit `?token=` (so a stale cookie cannot mask a
 * new token), then a bearer header (API clients, curl), then the cookie.
 */
export function decideAuth(req: AuthRequest, token: string): AuthDecision {
  const params = new URLSearchParams(req.querystring);
  const fromQuery = params.get('token');
  if (fromQuery !== null) {
    if (!secretsEqual(fromQuery, token)) return { ok: false, reason: 'bad-query' };
    params.delete('token');
    const rest = params.toString();
    // A relative Location keeps the page working behind a path-prefixing proxy
    // (e.g. the kube API service proxy).
    // Only a plain segment, so the Location can never point to another scheme or host.
    const last = req.path.slice(req.path.lastIndexOf('/') + 1);
    const location = `${/^[A-Za-z0-9._-]+$/.test(last) && !last.startsWith('.') ? last : './'}${rest ? `?${rest}` : ''}`;
    const attrs = ['HttpOnly', 'SameSite=Strict', 'Path=/', ...(req.secure ? ['Secure'] : [])];
    return {
      ok: true,
      via: 'query',
      setCookie: `${SESSION_COOKIE}=${sessionValue(token)}; ${attrs.join('; ')}`,
      location,
    };
  }
  const auth = req.authorization;
  if (auth !== undefined && auth !== '') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m && secretsEqual(m[1]!, token) ? { ok: true, via: 'bearer' } : { ok: false, reason: 'bad-bearer' };
  }
  const cookie = readCookie(req.cookie, SESSION_COOKIE);
  if (cookie !== undefined)
    return secretsEqual(cookie, sessionValue(token))
      ? { ok: true, via: 'cookie' }
      : { ok: false, reason: 'bad-cookie' };
  return { ok: false, reason: 'missing' };
}
