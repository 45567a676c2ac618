import type { HealthReport as GeneratedHealthReport } from '../core/api/generated/healthreport.js';
import type { API_VERSION } from '../core/api/index.js';

/**
 * The report wire format (schemas/healthreport.schema.json is the source of truth; the
 * engine validates every body against it before this type applies).
 */
export type ProbeErrorClass =
  'Timeout' | 'ConnectionRefused' | 'ConnectionReset' | 'DnsFailure' | 'UnexpectedStatus' | 'Other';
export const PROBE_ERROR_CLASSES: readonly ProbeErrorClass[] = [
  'Timeout',
  'ConnectionRefused',
  'ConnectionReset',
  'DnsFailure',
  'UnexpectedStatus',
  'Other',
];

export interface ProcessStats {
  count: number;
  cpuSeconds: number;
  rssBytes: number;
  openFds: number;
  threads: number;
}

export interface HealthSample {
  seq: number;
  time: string;
  probe: { type: 'http' | 'tcp' | 'grpc'; ok: boolean; latencyMs: number; status?: number; error?: ProbeErrorClass };
  process?: ProcessStats;
}

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

export interface HealthReport {
  apiVersion: typeof API_VERSION;
  kind: 'HealthReport';
  pod: PodRef;
  policy?: string;
  sidecar: { version: string; instance: string; startedAt: string };
  dropped: number;
  samples: HealthSample[];
}

/** What the pod watch adds to a pod's window beside the sidecar's samples. */
export type PodEventType = 'Restarted' | 'OOMKilled' | 'CrashLoopBackOff' | 'Ready' | 'NotReady';

export interface PodEvent {
  time: string;
  type: PodEventType;
  container?: string;
  /** restartCount after a restart; the termination reason or exit code when known. */
  restartCount?: number;
  reason?: string;
  exitCode?: number;
}

// The hand-written types above must accept every report the schema accepts: this fails to
// compile when schemas/healthreport.schema.json and these types drift apart.
type Accepts<T, U extends T> = U;
export type SchemaCompatible = Accepts<HealthReport, GeneratedHealthReport>;
