/**
 * The contract between the injecting webhook and the sidecar (sidecar/src/config.ts reads
 * exactly these names). The webhook sets them; the sidecar never guesses. Keep both sides
 * in step: a test compares this list with the sidecar's.
 */
export const SIDECAR_ENV = {
  /** Downward API: metadata.name, metadata.namespace, metadata.uid. */
  podName: 'BULKHEAD_POD_NAME',
  podNamespace: 'BULKHEAD_POD_NAMESPACE',
  podUid: 'BULKHEAD_POD_UID',
  /** Name of the HealthPolicy that injected the sidecar. */
  policy: 'BULKHEAD_POLICY',
  /** `http`, `tcp` or `grpc` (the gRPC health checking protocol, plaintext, as the kubelet probes). */
  probeType: 'BULKHEAD_PROBE_TYPE',
  /** `http` or `https` (https as the kubelet probes it: the app's certificate is not verified). */
  probeScheme: 'BULKHEAD_PROBE_SCHEME',
  /** JSON `[{"name","value"}]`: the readiness probe's httpHeaders, Host included. */
  probeHeaders: 'BULKHEAD_PROBE_HEADERS',
  /** The `service` of a gRPC health check (empty: the server as a whole). */
  probeGrpcService: 'BULKHEAD_PROBE_GRPC_SERVICE',
  /** Host to probe; the main container shares the pod's network namespace (127.0.0.1). */
  probeHost: 'BULKHEAD_PROBE_HOST',
  /** Numeric port (named ports are resolved at injection time). */
  probePort: 'BULKHEAD_PROBE_PORT',
  probePath: 'BULKHEAD_PROBE_PATH',
  /** e.g. `200-399,404`. */
  probeExpectStatus: 'BULKHEAD_PROBE_EXPECT_STATUS',
  /** Durations as in policies: `500ms`, `10s`, `1m`. */
  probeInterval: 'BULKHEAD_PROBE_INTERVAL',
  probeTimeout: 'BULKHEAD_PROBE_TIMEOUT',
  /** https URL of the engine's report ingest (observe stage). */
  reportUrl: 'BULKHEAD_REPORT_URL',
  /** Projected ServiceAccount token with audience `bulkhead`. */
  tokenPath: 'BULKHEAD_TOKEN_PATH',
  /** CA bundle that signs the report endpoint's serving cert. */
  caPath: 'BULKHEAD_CA_PATH',
  /** The sidecar's own /healthz (its livenessProbe), a port no container of the pod declares; 0 = off. */
  healthPort: 'BULKHEAD_HEALTH_PORT',
  /** Downward API status.podIP: where /healthz falls back to when another process holds 0.0.0.0:<port>. */
  podIp: 'BULKHEAD_POD_IP',
} as const;

/**
 * Node flags of the sidecar process, set by injection through NODE_OPTIONS (so any image whose
 * entrypoint is node gets them). Equal to sidecar/src/node-flags.ts (a test compares them):
 * without the JIT and with a 1 MiB young generation the sidecar stays ~46 MiB instead of ~51.
 */
export const SIDECAR_NODE_OPTIONS = '--jitless --max-semi-space-size=1';

export type SidecarEnvName = (typeof SIDECAR_ENV)[keyof typeof SIDECAR_ENV];

/** The audience of the projected token: the engine's TokenReview asks for exactly this one. */
export const SIDECAR_TOKEN_AUDIENCE = 'bulkhead';
export const SIDECAR_CONTAINER_NAME = 'bulkhead-sidecar';
export const SIDECAR_VOLUME_NAME = 'bulkhead-identity';
export const SIDECAR_MOUNT_PATH = '/var/run/secrets/bulkhead';
export const SIDECAR_TOKEN_PATH = `${SIDECAR_MOUNT_PATH}/token`;
export const SIDECAR_CA_PATH = `${SIDECAR_MOUNT_PATH}/ca.crt`;
/** ConfigMap (in the pod's namespace, optional) whose `ca.crt` is projected beside the token. */
export const SIDECAR_CA_CONFIGMAP = 'bulkhead-ca';
