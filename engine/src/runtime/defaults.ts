import { DEFAULT_ENGINE_NAMESPACE } from '../core/api/index.js';
import { BULKHEAD_VERSION } from '../core/version.js';

/**
 * The running engine's defaults, each defined once: `bulkhead run`'s flags show and use them,
 * and the runtime falls back to the same values when a caller (a bench, a test) leaves a
 * setting out. Durations are flag strings ("5s"); parse with core/duration.ts.
 */
export const RUN_DEFAULTS = {
  namespace: DEFAULT_ENGINE_NAMESPACE,
  listen: '0.0.0.0:8080',
  /** Ports when --listen / --https give only a host. */
  httpPort: 8080,
  httpsPort: 8443,
  leaseName: 'bulkhead-engine',
  leaseDuration: '8s',
  renewDeadline: '5s',
  retryPeriod: '1s',
  minInterval: '1s',
  eventNamespace: 'default',
  logLevel: 'info',
  dirSourceName: 'local',
  service: 'bulkhead-engine',
  serviceAccount: 'bulkhead-engine',
  tlsSecret: 'bulkhead-webhook-tls',
  breakGlassGroups: ['bulkhead:break-glass'],
  /** --admission: in-apiserver policies where the apiserver serves them, else the webhooks (ADR 1700). */
  admission: 'auto',
  sidecarImage: `ghcr.io/bulkhead-dev/bulkhead-sidecar:${BULKHEAD_VERSION}`,
  sidecarVersion: BULKHEAD_VERSION,
  clusterName: 'default',
  recordsBranch: 'main',
  /** How long failing pods are gathered into one incident. */
  groupWindow: '250ms',
  /** Audit outbox drain interval. */
  flushInterval: '1s',
  /** How often git is read for released records and elapsed TTLs. */
  releaseInterval: '5s',
  /** How often every held pod's isolation is checked besides the watches (ADR 1410). */
  isolationResync: '30s',
} as const;
