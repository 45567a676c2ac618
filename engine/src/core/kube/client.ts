import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { BulkheadError, errorMessage } from '../errors.js';
import type { KubeMetrics } from './metrics.js';

/**
 * A small raw client for the apiserver. Bulkhead applies manifests verbatim, and the typed
 * client-node serializer drops unknown fields of built-in kinds (see the node20 notes), so
 * every call that carries a manifest goes through here. It also gives one place to count
 * requests per verb (the "no-op resync makes no writes" bench reads that counter), one
 * keep-alive agent, and one mapping of HTTP failures to typed errors.
 */
export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** The body as text instead of parsed JSON (pods/log is plain text). */
  text?: boolean;
}

/** The apiserver's `Status` object, as carried by a failed request. */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: { reason?: string; message?: string; field?: string }[] };
}

export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: KubeStatus,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${method} ${path}: ${code} ${status.reason ?? ''} ${status.message ?? ''}`.trim());
    this.name = 'KubeApiError';
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof KubeApiError && e.code === 404;
export const isConflict = (e: unknown): boolean => e instanceof KubeApiError && e.code === 409;

/** Writes are what the "no writes on a no-op resync" promise counts. */
export const isWriteVerb = (method: string): boolean => method !== 'GET';

export interface KubeClientOptions {
  metrics?: KubeMetrics;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  maxSockets?: number;
}

export class KubeClient {
  private agent: Agent | HttpAgent | undefined;
  private readonly base: URL;
  private readonly counts = new Map<string, number>();

  constructor(
    readonly kubeConfig: KubeConfig,
    private readonly opts: KubeClientOptions = {},
  ) {
    const server = kubeConfig.getCurrentCluster()?.server;
    if (!server) {
      throw new BulkheadError({
        kind: 'Stalled',
        code: 'BH_KUBE_NO_CLUSTER',
        reason: 'NoCluster',
        message: 'the kubeconfig names no current cluster',
      });
    }
    this.base = new URL(server);
  }

  /** Requests made so far, by verb (GET, PATCH, …); for benches and tests. */
  requestCounts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  async request<T>(req: KubeRequest): Promise<T> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) qs.set(k, v);
    const path = `${this.base.pathname.replace(/\/$/, '')}${req.path}${qs.size > 0 ? `?${qs}` : ''}`;
    const payload =
      req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    const opts: RequestOptions = {
      method: req.method,
      hostname: this.base.hostname,
      port: this.base.port || (this.base.protocol === 'https:' ? 443 : 80),
      path,
      headers: {
        accept: req.text ? 'text/plain, */*' : 'application/json',
        ...(payload !== undefined
          ? { 'content-type': req.contentType ?? 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {}),
      },
      timeout: this.opts.timeoutMs ?? 30_000,
      ...(req.signal ? { signal: req.signal } : {}),
    };
    // Credentials (token, client cert) are re-read on each call so rotated tokens are used;
    // the agent it creates is replaced by one keep-alive agent built from the same TLS material.
    await this.kubeConfig.applyToHTTPSOptions(opts);
    opts.agent = this.sharedAgent(opts);
    const verb = req.method;
    this.counts.set(verb, (this.counts.get(verb) ?? 0) + 1);
    const end = this.opts.metrics?.requestDuration.startTimer({ verb });
    const send = this.base.protocol === 'https:' ? httpsRequest : httpRequest;
    try {
      const { code, text } = await new Promise<{ code: number; text: string }>((ok, fail) => {
        const r = send(opts, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => ok({ code: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', fail);
        });
        r.on('timeout', () => r.destroy(new Error(`timeout after ${opts.timeout} ms`)));
        r.on('error', fail);
        r.end(payload);
      });
      end?.({ code: String(code) });
      if (code >= 200 && code < 300) return (req.text ? text : text ? JSON.parse(text) : {}) as T;
      let status: KubeStatus = { code, message: text.slice(0, 500) };
      try {
        status = JSON.parse(text) as KubeStatus;
      } catch {
        /* not JSON: keep the text */
      }
      throw new KubeApiError(code, status, req.method, req.path);
    } catch (err) {
      if (err instanceof KubeApiError) throw err;
      end?.({ code: 'error' });
      throw new BulkheadError({
        kind: 'Transient',
        code: 'BH_KUBE_UNREACHABLE',
        reason: 'ApiServerUnreachable',
        message: `${req.method} ${req.path}: ${errorMessage(err)}`,
        cause: err,
      });
    }
  }

  close(): void {
    this.agent?.destroy();
  }

  private sharedAgent(opts: RequestOptions): Agent | HttpAgent {
    if (!this.agent) {
      const maxSockets = this.opts.maxSockets ?? 16;
      this.agent =
        this.base.protocol === 'https:'
          ? new Agent({
              keepAlive: true,
              maxSockets,
              ...(opts.ca ? { ca: opts.ca } : {}),
              ...(opts.cert ? { cert: opts.cert } : {}),
              ...(opts.key ? { key: opts.key } : {}),
              ...(opts.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
            })
          : new HttpAgent({ keepAlive: true, maxSockets });
    }
    return this.agent;
  }
}
