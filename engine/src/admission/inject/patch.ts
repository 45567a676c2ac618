import { ANNOTATION } from '../../core/api/index.js';
import {
  SIDECAR_CA_CONFIGMAP,
  SIDECAR_CONTAINER_NAME,
  SIDECAR_TOKEN_AUDIENCE,
  SIDECAR_VOLUME_NAME,
} from '../sidecar-env.js';
import { chooseHealthPort } from './health-port.js';
import type { PolicyIndex } from './policy-index.js';
import { injectionPaused } from './pull-pause.js';
import { resolveProbe, type ContainerLike, type ResolvedProbe } from './probe-target.js';
import type { Labels } from './selector.js';
import { sidecarContainer, type SidecarSettings } from './sidecar-container.js';

export type { ContainerLike, ResolvedProbe } from './probe-target.js';
export type { SidecarSettings } from './sidecar-container.js';

/** Annotations the injector reads and writes. */
export const ANNOTATIONS = {
  /** Set to "false" on a pod to opt out. */
  inject: 'bulkhead.dev/inject',
  /** JSON {policy, sidecar}: which policy and sidecar version injected the pod. */
  injected: ANNOTATION.injected,
  /** Why this policy and not the others, when several matched. */
  decision: 'bulkhead.dev/injection-decision',
  /**
   * Which path injected the pod: `webhook` (the engine's /mutate) or `policy` (the generated
   * MutatingAdmissionPolicy, ADR 1700). The one field in which the two paths' pods differ.
   */
  admissionPath: 'bulkhead.dev/admission-path',
} as const;

export interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove' | 'test';
  path: string;
  value?: unknown;
}

export interface PodLike {
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: {
    containers?: ContainerLike[];
    initContainers?: ContainerLike[];
    volumes?: { name: string }[];
    hostNetwork?: boolean;
    [k: string]: unknown;
  };
}

export type InjectionDecision =
  | { inject: false; reason: string; policies: string[] }
  | { inject: true; policy: string; policies: string[]; patch: JsonPatchOp[]; explanation?: string };

/**
 * The whole injection decision, pure: pod + namespace + the policy index → JSONPatch or the
 * reason for leaving the pod alone. Re-invocation is a no-op (the injected annotation and the
 * container are both checked), so `reinvocationPolicy: IfNeeded` is safe.
 */
export function decideInjection(
  pod: PodLike,
  namespace: string,
  namespaceLabels: Labels,
  index: PolicyIndex,
  sidecar: SidecarSettings,
  now: number = Date.now(),
): InjectionDecision {
  const annotations = pod.metadata?.annotations ?? {};
  const containers = pod.spec?.containers ?? [];
  const all = [...(pod.spec?.initContainers ?? []), ...containers];
  if (annotations[ANNOTATIONS.injected] !== undefined || all.some((c) => c.name === SIDECAR_CONTAINER_NAME)) {
    return { inject: false, reason: 'already injected', policies: [] };
  }
  if (annotations[ANNOTATIONS.inject] === 'false')
    return { inject: false, reason: `opted out (${ANNOTATIONS.inject}: "false")`, policies: [] };
  const match = index.match(namespace, namespaceLabels, pod.metadata?.labels);
  const names = match.policies.map((p) => p.name);
  if (match.policies.length === 0)
    return { inject: false, reason: match.reason ?? 'no policy matches', policies: names };
  if (containers.length === 0) return { inject: false, reason: 'pod has no containers', policies: names };
  if ((pod.spec?.volumes ?? []).some((v) => v.name === SIDECAR_VOLUME_NAME)) {
    return { inject: false, reason: `pod already has a volume named ${SIDECAR_VOLUME_NAME}`, policies: names };
  }

  // The first policy whose probe resolves for this pod wins; the others are explained.
  const skipped: string[] = [];
  for (const candidate of match.policies) {
    // A policy whose sidecar image could not be pulled injects nothing for a while (ADR 1010).
    const paused = injectionPaused(candidate.policy, sidecar.image, now);
    if (paused) {
      skipped.push(`${candidate.name}: ${paused}`);
      continue;
    }
    const probe = resolveProbe(candidate.policy, containers);
    if (typeof probe === 'string') {
      skipped.push(`${candidate.name}: ${probe}`);
      continue;
    }
    const explanation =
      names.length > 1
        ? [
            `matched ${names.join(', ')}; injected ${candidate.name} (one sidecar per pod: most specific match, then name order)`,
            ...skipped.map((s) => `skipped ${s}`),
          ].join('; ')
        : undefined;
    const patch = buildPatch(pod, candidate.policy.metadata.name, probe, sidecar, explanation);
    return { inject: true, policy: candidate.name, policies: names, patch, ...(explanation ? { explanation } : {}) };
  }
  return { inject: false, reason: `no matching policy injects this pod: ${skipped.join('; ')}`, policies: names };
}

const escape = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

export function buildPatch(
  pod: PodLike,
  policy: string,
  probe: ResolvedProbe,
  sidecar: SidecarSettings,
  explanation?: string,
): JsonPatchOp[] {
  const health = chooseHealthPort(
    pod.metadata?.annotations ?? {},
    [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])],
    pod.spec?.hostNetwork === true,
  );
  const container = sidecarContainer(policy, probe, sidecar, health.port);
  const volume = {
    name: SIDECAR_VOLUME_NAME,
    projected: {
      sources: [
        {
          serviceAccountToken: {
            audience: SIDECAR_TOKEN_AUDIENCE,
            expirationSeconds: sidecar.tokenExpirationSeconds ?? 3600,
            path: 'token',
          },
        },
        // Optional: the pod starts even before the engine has published its CA here.
        { configMap: { name: SIDECAR_CA_CONFIGMAP, optional: true, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      ],
    },
  };
  const annotations: Record<string, string> = {
    [ANNOTATIONS.injected]: JSON.stringify({ policy, sidecar: sidecar.version }),
    [ANNOTATIONS.admissionPath]: 'webhook',
  };
  if (explanation) annotations[ANNOTATIONS.decision] = explanation;

  // A native sidecar (KEP-753, GA in 1.33): an init container with restartPolicy Always. It
  // starts after the pod's own init containers and before the app, runs beside it, and does
  // not keep a Job's pod from completing. Last among the init containers, so it monitors the
  // app, not the pod's setup.
  const ops: JsonPatchOp[] = [
    pod.spec?.initContainers
      ? { op: 'add', path: '/spec/initContainers/-', value: container }
      : { op: 'add', path: '/spec/initContainers', value: [container] },
  ];
  // A projected token needs a ServiceAccount. The ServiceAccount admission plugin defaults it
  // to `default` before webhooks run; where that plugin is off, do the same.
  if (!pod.spec?.serviceAccountName && !pod.spec?.serviceAccount)
    ops.push({ op: 'add', path: '/spec/serviceAccountName', value: 'default' });
  ops.push(
    pod.spec?.volumes
      ? { op: 'add', path: '/spec/volumes/-', value: volume }
      : { op: 'add', path: '/spec/volumes', value: [volume] },
  );
  if (pod.metadata?.annotations) {
    for (const [k, v] of Object.entries(annotations))
      ops.push({ op: 'add', path: `/metadata/annotations/${escape(k)}`, value: v });
  } else {
    ops.push({ op: 'add', path: '/metadata/annotations', value: annotations });
  }
  return ops;
}

/**
 * The injected sidecar of a pod, if any: a native sidecar among the init containers (or, for
 * pods injected before native sidecars, among the containers).
 */
export function injectedSidecar<C extends { name: string }>(pod: {
  spec?: { containers?: C[]; initContainers?: C[] } | undefined;
}): C | undefined {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find(
    (c) => c.name === SIDECAR_CONTAINER_NAME,
  );
}
