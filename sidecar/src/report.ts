import type { ProbeResult } from './probe.js';
import type { ProcessStats } from './proc-stats.js';

/**
 * The wire format the sidecar posts to the engine: schemas/healthreport.schema.json is its
 * source of truth (the engine validates against it). Kept as plain types here because the
 * sidecar bundle may not import the engine's generated ones.
 */
export interface Sample {
  /** Per sidecar instance, from 1, without gaps at the source: a gap at the engine is a loss. */
  seq: number;
  time: string;
  probe: ProbeResult;
  process?: ProcessStats;
}

export interface HealthReport {
  apiVersion: 'bulkhead.dev/v1alpha1';
  kind: 'HealthReport';
  pod: { namespace: string; name: string; uid: string };
  policy?: string;
  sidecar: { version: string; instance: string; startedAt: string };
  /** Samples this sidecar instance dropped since it started because its buffer was full. */
  dropped: number;
  samples: Sample[];
}

export const SIDECAR_VERSION = '0.1.0';
