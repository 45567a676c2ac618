import { BulkheadError } from '../core/errors.js';

/**
 * Git credentials, read from a Secret's data. Keys follow Flux's GitRepository secrets so an
 * existing secret works unchanged:
 *   username + password   HTTPS basic auth
 *   bearerToken           HTTPS `Authorization: Bearer`
 *   token                 HTTPS basic auth with the token as password (GitHub, GitLab, Gitea)
 *   identity + known_hosts  SSH private key, with host keys pinned (never "accept any host")
 *   ca.crt                a CA bundle for an HTTPS server with a private CA
 * The values never leave this process except as a child's environment and 0600 files in
 * the cache folder; they are never put in a URL, a log line or an error message.
 */
export type GitAuth =
  | { kind: 'none' }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'bearer'; token: string }
  | { kind: 'ssh'; identity: string; knownHosts: string };

export interface GitCredentials {
  auth: GitAuth;
  caCert?: string;
}

export const NO_CREDENTIALS: GitCredentials = { auth: { kind: 'none' } };

/** `data` as a Secret carries it: base64 values. */
export function credentialsFromSecretData(data: Record<string, string> | undefined): GitCredentials {
  const d: Record<string, string> = {};
  for (const [k, v] of Object.entries(data ?? {})) d[k] = Buffer.from(v, 'base64').toString('utf8');
  const caCert = d['ca.crt'] ? { caCert: d['ca.crt'] } : {};
  if (d.identity) {
    if (!d.known_hosts) {
      throw new BulkheadError({
        kind: 'Stalled',
        code: 'BH_SOURCE_SSH_NO_KNOWN_HOSTS',
        reason: 'InvalidCredentials',
        message: 'the secret has an ssh identity but no known_hosts: host keys must be pinned',
      });
    }
    return { auth: { kind: 'ssh', identity: d.identity, knownHosts: d.known_hosts }, ...caCert };
  }
  if (d.bearerToken) return { auth: { kind: 'bearer', token: d.bearerToken.trim() }, ...caCert };
  if (d.token) return { auth: { kind: 'basic', username: d.username || 'git', password: d.token.trim() }, ...caCert };
  if (d.username && d.password)
    return { auth: { kind: 'basic', username: d.username, password: d.password }, ...caCert };
  return { auth: { kind: 'none' }, ...caCert };
}

/** Everything secret in a set of credentials, so error text can be scrubbed of it. */
export function secretValues(c: GitCredentials): string[] {
  const a = c.auth;
  const raw =
    a.kind === 'basic'
      ? [a.password, Buffer.from(`${a.username}:${a.password}`).toString('base64')]
      : a.kind === 'bearer'
        ? [a.token]
        : a.kind === 'ssh'
          ? [a.identity]
          : [];
  return raw.filter((s) => s.length >= 4);
}

/** Removes credentials from text that may echo them: userinfo in URLs and any known secret value. */
export function scrub(text: string, secrets: string[] = []): string {
  let out = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
  out = out.replace(/(authorization:\s*(?:basic|bearer)\s+)\S+/gi, '$1***');
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}

/**
 * A git URL without its userinfo, and the credentials to use (ADR 1413). `https://user:pass@host`
 * works with git, but git then stores it in the clone's `.git/config` and the engine would show
 * it wherever it shows the URL. The userinfo becomes basic auth, passed like a Secret's (as
 * `http.extraHeader` through the environment), unless the Secret gives credentials: those win.
 * Only http(s) URLs carry a password this way; an ssh `git@host` user stays in the URL (it is no
 * secret). A URL that does not parse is returned as it is (git reports it).
 */
export function withoutUserinfo(
  url: string,
  creds: GitCredentials = NO_CREDENTIALS,
): {
  url: string;
  credentials: GitCredentials;
} {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { url, credentials: creds };
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || (!u.username && !u.password))
    return { url, credentials: creds };
  const username = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  const credentials: GitCredentials =
    creds.auth.kind !== 'none' ? creds : { ...creds, auth: { kind: 'basic', username: username || 'git', password } };
  return { url: u.toString(), credentials };
}

/** The URL as the engine shows it anywhere (dashboard, status, logs): never with userinfo. */
export function displayUrl(url: string): string {
  return scrub(withoutUserinfo(url).url);
}
