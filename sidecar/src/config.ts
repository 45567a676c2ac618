import { parseDuration } from './duration.js';

/**
 * The sidecar's whole configuration, read once at start from the env the admission webhook
 * injects (the contract with engine/src/admission/sidecar-env.ts; names listed in ENV below).
 * This module and main.ts are the only places that see `process.env`.
 */
export const ENV = {
  podName: 'BULKHEAD_POD_NAME',
  podNamespace: 'BULKHEAD_POD_NAMESPACE',
  podUid: 'BULKHEAD_POD_UID',
  policy: 'BULKHEAD_POLICY',
  probeType: 'BULKHEAD_PROBE_TYPE',
  probeScheme: 'BULKHEAD_PROBE_SCHEME',
  probeHeaders: 'BULKHEAD_PROBE_HEADERS',
  probeGrpcService: 'BULKHEAD_PROBE_GRPC_SERVICE',
  probeHost: 'BULKHEAD_PROBE_HOST',
  probePort: 'BULKHEAD_PROBE_PORT',
  probePath: 'BULKHEAD_PROBE_PATH',
  probeExpectStatus: 'BULKHEAD_PROBE_EXPECT_STATUS',
  probeInterval: 'BULKHEAD_PROBE_INTERVAL',
  probeTimeout: 'BULKHEAD_PROBE_TIMEOUT',
  reportUrl: 'BULKHEAD_REPORT_URL',
  reportInterval: 'BULKHEAD_REPORT_INTERVAL',
  reportBatch: 'BULKHEAD_REPORT_BATCH',
  requestTimeout: 'BULKHEAD_REQUEST_TIMEOUT',
  tokenPath: 'BULKHEAD_TOKEN_PATH',
  caPath: 'BULKHEAD_CA_PATH',
  bufferSize: 'BULKHEAD_BUFFER_SIZE',
  backoffBase: 'BULKHEAD_BACKOFF_BASE',
  backoffCap: 'BULKHEAD_BACKOFF_CAP',
  healthPort: 'BULKHEAD_HEALTH_PORT',
  podIp: 'BULKHEAD_POD_IP',
  shutdownGrace: 'BULKHEAD_SHUTDOWN_GRACE',
  procStats: 'BULKHEAD_PROC_STATS',
  procMatch: 'BULKHEAD_PROC_MATCH',
  logLevel: 'BULKHEAD_LOG_LEVEL',
} as const;

export type ProbeSpec =
  | {
      type: 'http';
      /** https as the kubelet probes it: TLS, the app's certificate not verified. */
      scheme: 'http' | 'https';
      host: string;
      port: number;
      path: string;
      /** The readiness probe's httpHeaders (a `Host` among them sets the Host header). */
      headers: { name: string; value: string }[];
      expectStatus: StatusRange[];
    }
  | { type: 'tcp'; host: string; port: number }
  /** gRPC health checking protocol (grpc.health.v1.Health/Check), plaintext, as the kubelet's grpc probe. */
  | { type: 'grpc'; host: string; port: number; service: string };

export interface StatusRange {
  min: number;
  max: number;
}

export interface SidecarConfig {
  pod: { namespace: string; name: string; uid: string };
  policy?: string;
  probe: ProbeSpec;
  probeIntervalMs: number;
  probeTimeoutMs: number;
  reportUrl: URL;
  reportIntervalMs: number;
  reportBatch: number;
  requestTimeoutMs: number;
  tokenPath: string;
  /** The engine's CA bundle (projected ConfigMap): the only trust for the report connection. */
  caPath: string;
  bufferSize: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  /** 0 turns the sidecar's own /healthz off. */
  healthPort: number;
  /** The pod's IP: /healthz binds there when another process holds the port on 0.0.0.0's loopback side. */
  podIp?: string;
  shutdownGraceMs: number;
  procStats: { enabled: boolean; match?: string };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid sidecar configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** `200-399,404` → ranges. */
export function parseStatusRanges(text: string): StatusRange[] {
  return text.split(',').map((part) => {
    const m = /^\s*(\d{3})(?:\s*-\s*(\d{3}))?\s*$/.exec(part);
    if (!m) throw new Error(`invalid status "${part}" (use e.g. 200-399,404)`);
    const min = Number(m[1]);
    const max = Number(m[2] ?? m[1]);
    if (min > max || min < 100 || max > 599) throw new Error(`invalid status range "${part}"`);
    return { min, max };
  });
}

/** `[{"name":"Host","value":"shop.example"}]` (the readiness probe's httpHeaders as JSON). */
export function parseHeaders(text: string | undefined): { name: string; value: string }[] {
  if (text === undefined || text === '') return [];
  const list: unknown = JSON.parse(text);
  if (!Array.isArray(list)) throw new Error('must be a JSON list of {name, value}');
  return list.map((h: unknown) => {
    const { name, value } = (h ?? {}) as { name?: unknown; value?: unknown };
    if (typeof name !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || typeof value !== 'string')
      throw new Error('every header needs a token name and a string value');
    return { name, value };
  });
}

export function readConfig(env: Record<string, string | undefined>): SidecarConfig {
  const problems: string[] = [];
  const get = (name: string, fallback?: string): string => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (fallback === undefined) problems.push(`${name} is required`);
    return fallback ?? '';
  };
  const attempt = <T>(name: string, f: () => T, fallback: T): T => {
    try {
      return f();
    } catch (err) {
      problems.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      return fallback;
    }
  };
  const duration = (name: string, fallback: string): number =>
    attempt(name, () => parseDuration(get(name, fallback)), 0);
  const int = (name: string, fallback: string, min: number, max: number): number =>
    attempt(
      name,
      () => {
        const n = Number(get(name, fallback));
        if (!Number.isInteger(n) || n < min || n > max) throw new Error(`must be an integer in [${min}, ${max}]`);
        return n;
      },
      min,
    );

  const host = get(ENV.probeHost, '127.0.0.1');
  const port = int(ENV.probePort, '', 1, 65535);
  const type = get(ENV.probeType, 'http');
  let probe: ProbeSpec;
  if (type === 'tcp') probe = { type: 'tcp', host, port };
  else if (type === 'grpc') probe = { type: 'grpc', host, port, service: env[ENV.probeGrpcService] ?? '' };
  else {
    if (type !== 'http') problems.push(`${ENV.probeType} must be http, tcp or grpc, got "${type}"`);
    const path = get(ENV.probePath, '/');
    if (!path.startsWith('/')) problems.push(`${ENV.probePath} must start with /`);
    const scheme = get(ENV.probeScheme, 'http');
    if (scheme !== 'http' && scheme !== 'https') problems.push(`${ENV.probeScheme} must be http or https`);
    probe = {
      type: 'http',
      scheme: scheme === 'https' ? 'https' : 'http',
      host,
      port,
      path,
      headers: attempt(ENV.probeHeaders, () => parseHeaders(env[ENV.probeHeaders]), []),
      expectStatus: attempt(ENV.probeExpectStatus, () => parseStatusRanges(get(ENV.probeExpectStatus, '200-399')), []),
    };
  }
  const reportUrl = attempt(
    ENV.reportUrl,
    () => {
      const u = new URL(get(ENV.reportUrl));
      // The report carries the pod's token: never over plain HTTP.
      if (u.protocol !== 'https:') throw new Error('must be an https URL');
      return u;
    },
    new URL('https://invalid.invalid'),
  );
  const level = get(ENV.logLevel, 'info');
  const cfg: SidecarConfig = {
    pod: { namespace: get(ENV.podNamespace), name: get(ENV.podName), uid: get(ENV.podUid) },
    probe,
    probeIntervalMs: duration(ENV.probeInterval, '10s'),
    probeTimeoutMs: duration(ENV.probeTimeout, '1s'),
    reportUrl,
    reportIntervalMs: duration(ENV.reportInterval, '10s'),
    reportBatch: int(ENV.reportBatch, '100', 1, 1000),
    requestTimeoutMs: duration(ENV.requestTimeout, '5s'),
    tokenPath: get(ENV.tokenPath, '/var/run/secrets/bulkhead/token'),
    // Required: the report carries the pod's token, and only the engine's CA may vouch for
    // the endpoint (never the system trust store; see ca-trust.ts).
    caPath: get(ENV.caPath),
    bufferSize: int(ENV.bufferSize, '1000', 1, 1_000_000),
    backoffBaseMs: duration(ENV.backoffBase, '500ms'),
    backoffCapMs: duration(ENV.backoffCap, '30s'),
    healthPort: int(ENV.healthPort, '9901', 0, 65535),
    shutdownGraceMs: duration(ENV.shutdownGrace, '5s'),
    procStats: { enabled: get(ENV.procStats, 'false') === 'true' },
    logLevel: (['debug', 'info', 'warn', 'error'] as const).find((l) => l === level) ?? 'info',
  };
  const policy = env[ENV.policy];
  if (policy) cfg.policy = policy;
  const podIp = env[ENV.podIp];
  if (podIp) cfg.podIp = podIp;
  const match = env[ENV.procMatch];
  if (match) cfg.procStats.match = match;
  if (cfg.probeIntervalMs < 100) problems.push(`${ENV.probeInterval} must be at least 100ms`);
  if (cfg.probeTimeoutMs < 1 || cfg.probeTimeoutMs > cfg.probeIntervalMs)
    problems.push(`${ENV.probeTimeout} must be positive and at most the interval`);
  if (problems.length > 0) throw new ConfigError(problems);
  return cfg;
}
