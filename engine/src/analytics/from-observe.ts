import { ANNOTATION } from '../core/api/index.js';
import type { PodHealthWindow, PodEvent } from '../observe/index.js';
import type { LifecycleEvent, PodHealth } from './types.js';

/** What the pod itself says about where it runs and who owns it (from the pod object). */
export interface PodFacts {
  labels: Record<string, string>;
  node?: string;
  owner?: { kind: string; name: string; uid: string };
  image?: string;
  /**
   * The policy the injection webhook wrote on the pod at admission (`bulkhead.dev/injected`).
   * Only a claim until checked against the live policies (quarantine's judgingPolicy): the
   * annotation is on the pod, and whoever may patch pods may edit it.
   */
  injectedPolicy?: string;
}

/** The parts of a pod object analytics reads (what the apiserver returns). */
export interface PodObject {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
  };
  spec?: { nodeName?: string; containers?: { image?: string }[] };
}

/** A pod's facts (pure): labels, node, controlling owner, main-container image and injecting policy. */
export function podFactsOf(pod: PodObject): PodFacts {
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller);
  const image = pod.spec?.containers?.[0]?.image;
  const injectedPolicy = injectedPolicyOf(pod.metadata.annotations);
  return {
    labels: pod.metadata.labels ?? {},
    ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
    ...(owner ? { owner: { kind: owner.kind, name: owner.name, uid: owner.uid } } : {}),
    ...(image ? { image } : {}),
    ...(injectedPolicy ? { injectedPolicy } : {}),
  };
}

/** The `policy` of the `bulkhead.dev/injected` annotation (JSON written by the webhook), or undefined. */
export function injectedPolicyOf(annotations: Record<string, string> | undefined): string | undefined {
  const raw = annotations?.[ANNOTATION.injected];
  if (!raw || raw.length > 4096) return undefined;
  try {
    const v = JSON.parse(raw) as { policy?: unknown } | null;
    return typeof v?.policy === 'string' && v.policy.length > 0 && v.policy.length <= 253 ? v.policy : undefined;
  } catch {
    return undefined;
  }
}

const LIFECYCLE: Partial<Record<PodEvent['type'], LifecycleEvent['kind']>> = {
  Restarted: 'Restart',
  OOMKilled: 'OOMKilled',
  CrashLoopBackOff: 'CrashLoopBackOff',
};

/** Adapts observe's window of one pod (plus the pod's facts) to what the detectors read. */
export function toAnalytics(
  h: PodHealthWindow,
  facts: PodFacts,
  identityRejections: readonly number[] = [],
): PodHealth {
  const events: LifecycleEvent[] = [];
  for (const e of h.events) {
    const kind = LIFECYCLE[e.type];
    if (kind) events.push({ t: Date.parse(e.time), kind, ...(e.container ? { container: e.container } : {}) });
  }
  return {
    namespace: h.namespace,
    name: h.pod,
    uid: h.uid,
    labels: facts.labels,
    ...(facts.node ? { node: facts.node } : {}),
    ...(facts.owner ? { owner: facts.owner } : {}),
    ...(facts.image ? { image: facts.image } : {}),
    samples: h.samples.map((s) => ({
      t: Date.parse(s.time),
      ok: s.probe.ok,
      latencyMs: s.probe.latencyMs,
      ...(s.probe.status !== undefined ? { status: s.probe.status } : {}),
      ...(s.probe.error ? { errorClass: s.probe.error } : {}),
    })),
    events,
    ...(h.process
      ? {
          stats: [
            {
              t: Date.parse(h.lastReportAt ?? new Date(0).toISOString()),
              processes: h.process.count,
              openFds: h.process.openFds,
              threads: h.process.threads,
              rssBytes: h.process.rssBytes,
            },
          ],
        }
      : {}),
    identityRejections,
  };
}
