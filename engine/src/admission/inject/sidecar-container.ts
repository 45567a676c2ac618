import {
  SIDECAR_CA_PATH,
  SIDECAR_CONTAINER_NAME,
  SIDECAR_ENV,
  SIDECAR_MOUNT_PATH,
  SIDECAR_NODE_OPTIONS,
  SIDECAR_TOKEN_PATH,
  SIDECAR_VOLUME_NAME,
} from '../sidecar-env.js';
import type { ResolvedProbe } from './probe-target.js';

export interface SidecarResources {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

export interface SidecarSettings {
  image: string;
  /** Recorded in the injected annotation, so outdated sidecars can be found. */
  version: string;
  reportUrl: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Default DEFAULT_SIDECAR_RESOURCES. */
  resources?: SidecarResources;
  /** Lifetime of the projected token (the kubelet refreshes it at 80%). */
  tokenExpirationSeconds?: number;
}

/**
 * Requests equal to limits, for CPU and memory: a Guaranteed pod stays Guaranteed (every
 * container must have requests == limits), and a namespace with a ResourceQuota on requests
 * and limits admits the pod without a LimitRange to default them. Measured (ADR 0400): ~46 MiB
 * RSS with the injected node flags, ~0.2 % of a core at 1 probe/s; 96 Mi leaves room for a full
 * report buffer and TLS, 50m for start-up (a cold node start is ~0.3 s of CPU).
 */
export const DEFAULT_SIDECAR_RESOURCES: SidecarResources = {
  requests: { cpu: '50m', memory: '96Mi' },
  limits: { cpu: '50m', memory: '96Mi' },
};

/**
 * Pod Security `restricted` asks every container for runAsNonRoot, no privilege escalation,
 * all capabilities dropped and a RuntimeDefault (or Localhost) seccomp profile; set on the
 * container, so it holds whatever the pod sets.
 */
export const SIDECAR_SECURITY_CONTEXT = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: 65532,
  runAsGroup: 65532,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
} as const;

/** The injected container: a native sidecar (restartPolicy Always), added to initContainers. */
export function sidecarContainer(
  policy: string,
  probe: ResolvedProbe,
  sidecar: SidecarSettings,
  healthPort: number,
): Record<string, unknown> {
  const fieldEnv = (name: string, fieldPath: string): unknown => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  const value = (name: string, v: string | undefined): unknown[] => (v === undefined ? [] : [{ name, value: v }]);
  const env: unknown[] = [
    fieldEnv(SIDECAR_ENV.podName, 'metadata.name'),
    fieldEnv(SIDECAR_ENV.podNamespace, 'metadata.namespace'),
    fieldEnv(SIDECAR_ENV.podUid, 'metadata.uid'),
    fieldEnv(SIDECAR_ENV.podIp, 'status.podIP'),
    ...value(SIDECAR_ENV.policy, policy),
    ...value(SIDECAR_ENV.probeType, probe.type),
    ...value(SIDECAR_ENV.probeScheme, probe.scheme),
    ...value(SIDECAR_ENV.probeHost, probe.host ?? '127.0.0.1'),
    ...value(SIDECAR_ENV.probePort, String(probe.port)),
    ...value(SIDECAR_ENV.probePath, probe.path),
    ...value(SIDECAR_ENV.probeHeaders, probe.headers ? JSON.stringify(probe.headers) : undefined),
    ...value(SIDECAR_ENV.probeGrpcService, probe.service),
    ...value(SIDECAR_ENV.probeExpectStatus, probe.expectStatus),
    ...value(SIDECAR_ENV.probeInterval, probe.interval),
    ...value(SIDECAR_ENV.probeTimeout, probe.timeout),
    ...value(SIDECAR_ENV.reportUrl, sidecar.reportUrl),
    ...value(SIDECAR_ENV.tokenPath, SIDECAR_TOKEN_PATH),
    ...value(SIDECAR_ENV.caPath, SIDECAR_CA_PATH),
    ...value(SIDECAR_ENV.healthPort, String(healthPort)),
    // The lean flags the sidecar bench measures, for any node entrypoint the image has.
    { name: 'NODE_OPTIONS', value: SIDECAR_NODE_OPTIONS },
  ];
  return {
    name: SIDECAR_CONTAINER_NAME,
    image: sidecar.image,
    imagePullPolicy: sidecar.imagePullPolicy ?? 'IfNotPresent',
    restartPolicy: 'Always',
    env,
    resources: sidecar.resources ?? DEFAULT_SIDECAR_RESOURCES,
    ...(healthPort > 0
      ? {
          // Declared, so the next injector or a human sees the port is in use.
          ports: [{ name: 'bulkhead-health', containerPort: healthPort, protocol: 'TCP' }],
          // /healthz answers 503 once the probe loop stalls: the kubelet restarts the sidecar
          // alone (a native sidecar restarts without its app). Generous, so a slow node does
          // not turn a busy sidecar into a restart.
          livenessProbe: {
            httpGet: { path: '/healthz', port: healthPort },
            initialDelaySeconds: 10,
            periodSeconds: 10,
            timeoutSeconds: 3,
            failureThreshold: 3,
          },
        }
      : {}),
    volumeMounts: [{ name: SIDECAR_VOLUME_NAME, mountPath: SIDECAR_MOUNT_PATH, readOnly: true }],
    securityContext: SIDECAR_SECURITY_CONTEXT,
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}
