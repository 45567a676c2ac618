import type { LabelSelector } from './selector.js';

/**
 * The part of a HealthPolicy the injector reads (schemas/healthpolicy.schema.json). Kept
 * structural and narrow so the injector stays independent of the rest of the spec.
 */
export interface InjectablePolicy {
  metadata: { name: string; generation?: number };
  /** Read for the SidecarInjection condition only (a paused injection, ADR 1010). */
  status?: {
    conditions?: { type: string; status: string; reason: string; message: string; lastTransitionTime: string }[];
  };
  spec: {
    match?: { namespaces?: string[]; namespaceSelector?: LabelSelector; selector?: LabelSelector };
    probe: {
      http?: { path: string; port: number | string };
      tcp?: { port: number | string };
      fromPod?: boolean;
      container?: string;
      interval?: string;
      timeout?: string;
      expectStatus?: number[];
    };
    /** Read for the admission path only: AntiAffinity placement is the webhook's (ADR 1700). */
    action?: { replacement?: { avoidNode?: string } };
  };
}
