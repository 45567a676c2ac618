import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import type { Log } from './log.js';

/**
 * What the sidecar trusts for the engine connection: exactly the CA bundle in the mounted
 * file (the `bulkhead-ca` ConfigMap projected into the pod), never the system trust store.
 *
 * The file is not read once. The kubelet creates the projected volume before the ConfigMap
 * may exist (the pod is admitted before the engine has published into a new namespace) and
 * swaps in new content through a `..data` symlink when the engine rotates its CA; inotify on
 * the file would keep watching the old inode. So the file is re-read, at most every
 * `maxAgeMs` (a 2 KiB read on the report path, whose interval already bounds how often that
 * is), and at once after a TLS verification failure; a changed bundle gets a new HTTPS agent.
 * Until a usable bundle has been read there is no agent: the report waits (and is retried
 * with the reporter's backoff) instead of going out trusting anything else.
 */
export interface CaTrustOptions {
  path: string;
  log: Log;
  /** Re-read the file when the last read is older than this (default 10 s). */
  maxAgeMs?: number;
  now?: () => number;
  read?: (path: string) => Promise<string>;
}

export type Trust = { ok: true; agent: Agent } | { ok: false; reason: string };

/** Node's codes for a peer certificate the trusted bundle does not verify. */
const VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function isTlsVerifyError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && VERIFY_CODES.has(code);
}

/**
 * The certificates of a PEM bundle that parse, normalized (one trailing newline each), so
 * the same bundle re-read compares equal; empty when nothing in it is a certificate.
 */
export function parseBundle(text: string): string[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.filter((pem) => {
    try {
      new X509Certificate(pem);
      return true;
    } catch {
      return false;
    }
  });
}

export class CaTrust {
  private agent: Agent | undefined;
  private pem = '';
  private readAt = Number.NEGATIVE_INFINITY;
  private stale = false;
  /** The last problem logged, so a file that stays missing is logged once, not every retry. */
  private problem: string | undefined;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly read: (path: string) => Promise<string>;

  constructor(private readonly opts: CaTrustOptions) {
    this.maxAgeMs = opts.maxAgeMs ?? 10_000;
    this.now = opts.now ?? (() => Date.now());
    this.read = opts.read ?? ((p) => readFile(p, 'utf8'));
  }

  /** The agent for the next request, re-reading the file when due. */
  async current(): Promise<Trust> {
    if (!this.agent || this.stale || this.now() - this.readAt >= this.maxAgeMs) await this.reload();
    if (this.agent) return { ok: true, agent: this.agent };
    return { ok: false, reason: this.problem ?? 'no CA bundle read yet' };
  }

  /** A request failed TLS verification: the bundle may have rotated, re-read before the next one. */
  verifyFailed(): void {
    this.stale = true;
  }

  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  private async reload(): Promise<void> {
    this.readAt = this.now();
    this.stale = false;
    let certs: string[];
    try {
      certs = parseBundle(await this.read(this.opts.path));
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'Error';
      return this.unusable(
        code === 'ENOENT'
          ? `CA file ${this.opts.path} not there yet (the engine has not published bulkhead-ca in this namespace)`
          : `CA file ${this.opts.path} unreadable (${code})`,
      );
    }
    if (certs.length === 0) return this.unusable(`CA file ${this.opts.path} holds no certificate`);
    const pem = certs.map((c) => `${c}\n`).join('');
    this.problem = undefined;
    if (pem === this.pem) return;
    const first = this.pem === '';
    this.pem = pem;
    // Reports are sent one at a time, so nothing is in flight on the old agent here.
    this.agent?.destroy();
    this.agent = new Agent({ keepAlive: true, maxSockets: 1, ca: pem });
    this.opts.log.info(first ? 'engine CA loaded' : 'engine CA changed; new connections use it', {
      path: this.opts.path,
      certificates: certs.length,
    });
  }

  /**
   * The file is missing, unreadable or empty. A bundle read before stays in use (it is still
   * the engine's CA: a ConfigMap deleted by an uninstall does not make it wrong); without one
   * nothing is sent.
   */
  private unusable(problem: string): void {
    if (problem !== this.problem) {
      this.opts.log[this.agent ? 'warn' : 'error'](
        this.agent
          ? `${problem}; keeping the CA read before`
          : `${problem}; not reporting until it appears (the system trust store is never used for the engine)`,
        { path: this.opts.path },
      );
    }
    this.problem = problem;
  }
}
