import type { PodHealthWindow, PodEvent } from '../observe/index.js';
import type { LifecycleEvent, PodHealth } from './types.js';

/** What the pod itself says about where it runs and who owns it (from the pod object). */
export interface PodFacts {
  labels: Record<string, string>;
  node?: string;
  owner?: { kind: string; name: string; uid: string };
  image?: string;
}

/** The parts of a pod object analytics reads (what the apiserver returns). */
export interface PodObject {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
  };
  spec?: { nodeName?: string; containers?: { image?: string }[] };
}

/** A pod's facts (pure): labels, node, controlling owner and main-container image. */
export function podFactsOf(pod: PodObject): PodFacts {
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller);
  const image = pod.spec?.containers?.[0]?.image;
  return {
    labels: pod.metadata.labels ?? {},
    ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
    ...(owner ? { owner: { kind: owner.kind, name: owner.name, uid: owner.uid } } : {}),
    ...(image ? { image } : {}),
  };
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
