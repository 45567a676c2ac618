import type { DetectRule } from '../core/api/index.js';
import type { PodRef } from '../observe/index.js';

/**
 * What analytics sees of a pod: a bounded window of probe samples and lifecycle events
 * (filled by observe/ from sidecar reports and the pod watch) plus the identity facts that
 * grouping needs. Times are epoch milliseconds.
 */
export interface ProbeSample {
  t: number;
  ok: boolean;
  latencyMs: number;
  status?: number;
  errorClass?: string;
}

export type LifecycleKind = 'Restart' | 'OOMKilled' | 'CrashLoopBackOff';

export interface LifecycleEvent {
  t: number;
  kind: LifecycleKind;
  container?: string;
}

export interface ProcessSample {
  t: number;
  processes: number;
  openFds: number;
  threads: number;
  rssBytes?: number;
}

export interface PodHealth extends PodRef {
  node?: string;
  /** The controller that owns the pod (ReplicaSet, StatefulSet, …), for grouping and budgets. */
  owner?: { kind: string; name: string; uid: string };
  /** Image of the main container. */
  image?: string;
  labels: Record<string, string>;
  samples: readonly ProbeSample[];
  events: readonly LifecycleEvent[];
  stats?: readonly ProcessSample[];
  /** Times at which a report claiming to be this pod was rejected (bad or foreign token). */
  identityRejections?: readonly number[];
}

/** External: a verdict asked for by an independent analytics tool through the verdict API. */
export type SignalType = DetectRule['type'] | 'IdentityRejected' | 'ProcessAnomaly' | 'External';

/** One detector's finding about one pod: what crossed which threshold, with the evidence. */
export interface Signal {
  type: SignalType;
  pod: PodRef;
  at: number;
  /** CamelCase, used as Event and condition reason. */
  reason: string;
  message: string;
  /** The samples or events that crossed the threshold (bounded: at most 20). */
  evidence: readonly (
    | ProbeSample
    | LifecycleEvent
    | ProcessSample
    | { t: number; rejected: true }
    | { t: number; detail: string; value?: number }
  )[];
  /** Threat signals are about compromise, not failure: never released by hysteresis alone. */
  threat: boolean;
}

export const MAX_EVIDENCE = 20;
