import { ANNOTATION } from '../../core/api/index.js';
import {
  SIDECAR_CA_CONFIGMAP,
  SIDECAR_CA_PATH,
  SIDECAR_CONTAINER_NAME,
  SIDECAR_ENV,
  SIDECAR_MOUNT_PATH,
  SIDECAR_TOKEN_AUDIENCE,
  SIDECAR_TOKEN_PATH,
  SIDECAR_VOLUME_NAME,
} from '../sidecar-env.js';
import type { InjectablePolicy } from './policy.js';
import type { PolicyIndex } from './policy-index.js';
import type { Labels } from './selector.js';

/** Annotations the injector reads and writes. */
export const ANNOTATIONS = {
  /** Set to "false" on a pod to opt out. */
  inject: 'bulkhead.dev/inject',
  /** JSON {policy, sidecar}: which policy and sidecar version injected the pod. */
  injected: ANNOTATION.injected,
  /** Why this policy and not the others, when several matched. */
  decision: 'bulkhead.dev/injection-decision',
} as const;

export interface SidecarSettings {
  image: string;
  /** Recorded in the injected annotation, so outdated sidecars can be found. */
  version: string;
  reportUrl: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  /** Lifetime of the projected token (the kubelet refreshes it at 80%). */
  tokenExpirationSeconds?: number;
}

export interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove' | 'test';
  path: string;
  value?: unknown;
}

interface ProbeAction {
  httpGet?: { path?: string; port?: number | string };
  tcpSocket?: { port?: number | string };
  periodSeconds?: number;
  timeoutSeconds?: number;
}

export interface ContainerLike {
  name: string;
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: ProbeAction;
  [k: string]: unknown;
}

export interface PodLike {
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: { containers?: ContainerLike[]; volumes?: { name: string }[]; [k: string]: unknown };
}

export type InjectionDecision =
  | { inject: false; reason: string; policies: string[] }
  | { inject: true; policy: string; policies: string[]; patch: JsonPatchOp[]; explanation?: string };

export interface ResolvedProbe {
  type: 'http' | 'tcp';
  port: number;
  path?: string;
  interval: string;
  timeout: string;
  expectStatus?: string;
}

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
): InjectionDecision {
  const annotations = pod.metadata?.annotations ?? {};
  const containers = pod.spec?.containers ?? [];
  if (annotations[ANNOTATIONS.injected] !== undefined || containers.some((c) => c.name === SIDECAR_CONTAINER_NAME)) {
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
  return { inject: false, reason: `no matching policy can probe this pod: ${skipped.join('; ')}`, policies: names };
}

export function resolveProbe(policy: InjectablePolicy, containers: readonly ContainerLike[]): ResolvedProbe | string {
  const p = policy.spec.probe;
  const main = p.container ? containers.find((c) => c.name === p.container) : containers[0];
  if (!main) return `container ${p.container} not found`;
  const interval = p.interval ?? '10s';
  const timeout = p.timeout ?? '2s';
  const expect = p.expectStatus && p.expectStatus.length > 0 ? { expectStatus: p.expectStatus.join(',') } : {};
  if (p.http) {
    const port = resolvePort(p.http.port, main, containers);
    return typeof port === 'string' ? port : { type: 'http', port, path: p.http.path, interval, timeout, ...expect };
  }
  if (p.tcp) {
    const port = resolvePort(p.tcp.port, main, containers);
    return typeof port === 'string' ? port : { type: 'tcp', port, interval, timeout };
  }
  if (p.fromPod) {
    const rp = main.readinessProbe;
    // The pod's own probe timing applies unless the policy sets its own.
    const timing = {
      interval: p.interval ?? (rp?.periodSeconds ? `${rp.periodSeconds}s` : interval),
      timeout: p.timeout ?? (rp?.timeoutSeconds ? `${rp.timeoutSeconds}s` : timeout),
    };
    if (rp?.httpGet?.port !== undefined) {
      const port = resolvePort(rp.httpGet.port, main, containers);
      return typeof port === 'string'
        ? port
        : { type: 'http', port, path: rp.httpGet.path || '/', ...timing, ...expect };
    }
    if (rp?.tcpSocket?.port !== undefined) {
      const port = resolvePort(rp.tcpSocket.port, main, containers);
      return typeof port === 'string' ? port : { type: 'tcp', port, ...timing };
    }
    return `probe fromPod, but container ${main.name} has no httpGet or tcpSocket readinessProbe`;
  }
  return 'policy has no probe';
}

function resolvePort(port: number | string, main: ContainerLike, all: readonly ContainerLike[]): number | string {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named =
    main.ports?.find((p) => p.name === port) ?? all.flatMap((c) => c.ports ?? []).find((p) => p.name === port);
  return named ? named.containerPort : `named port ${port} not found in the pod`;
}

const escape = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

export function buildPatch(
  pod: PodLike,
  policy: string,
  probe: ResolvedProbe,
  sidecar: SidecarSettings,
  explanation?: string,
): JsonPatchOp[] {
  const fieldEnv = (name: string, fieldPath: string): unknown => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  const env: unknown[] = [
    fieldEnv(SIDECAR_ENV.podName, 'metadata.name'),
    fieldEnv(SIDECAR_ENV.podNamespace, 'metadata.namespace'),
    fieldEnv(SIDECAR_ENV.podUid, 'metadata.uid'),
    { name: SIDECAR_ENV.policy, value: policy },
    { name: SIDECAR_ENV.probeType, value: probe.type },
    { name: SIDECAR_ENV.probeHost, value: '127.0.0.1' },
    { name: SIDECAR_ENV.probePort, value: String(probe.port) },
    ...(probe.path !== undefined ? [{ name: SIDECAR_ENV.probePath, value: probe.path }] : []),
    ...(probe.expectStatus !== undefined ? [{ name: SIDECAR_ENV.probeExpectStatus, value: probe.expectStatus }] : []),
    { name: SIDECAR_ENV.probeInterval, value: probe.interval },
    { name: SIDECAR_ENV.probeTimeout, value: probe.timeout },
    { name: SIDECAR_ENV.reportUrl, value: sidecar.reportUrl },
    { name: SIDECAR_ENV.tokenPath, value: SIDECAR_TOKEN_PATH },
    { name: SIDECAR_ENV.caPath, value: SIDECAR_CA_PATH },
  ];
  const container = {
    name: SIDECAR_CONTAINER_NAME,
    image: sidecar.image,
    imagePullPolicy: sidecar.imagePullPolicy ?? 'IfNotPresent',
    env,
    ...(sidecar.resources ? { resources: sidecar.resources } : {}),
    volumeMounts: [{ name: SIDECAR_VOLUME_NAME, mountPath: SIDECAR_MOUNT_PATH, readOnly: true }],
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 65532,
      capabilities: { drop: ['ALL'] },
    },
  };
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
  };
  if (explanation) annotations[ANNOTATIONS.decision] = explanation;

  const ops: JsonPatchOp[] = [{ op: 'add', path: '/spec/containers/-', value: container }];
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
