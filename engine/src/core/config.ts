/**
 * The engine's configuration, built once in cli/ from flags and environment and passed in.
 * Nothing below cli/ reads process.env.
 */
export interface EngineConfig {
  /** kubeconfig file; undefined → $KUBECONFIG (merged), ~/.kube/config, in-cluster (core/kube/kubeconfig.ts). */
  kubeconfig?: string;
  /** The engine's own namespace: its Lease, and the Secrets PolicySources reference. */
  namespace: string;
  /** This process in the Lease and in Events (pod name in a cluster). */
  identity: string;
  listen: { host: string; port: number };
  /** false: read-only mode for Argo CD / Flux (they apply `bulkhead render`); nothing is written. */
  apply: boolean;
  /** Take fields another declarative manager owns instead of reporting the conflict. */
  forceConflicts: boolean;
  leaderElection: {
    enabled: boolean;
    leaseName: string;
    leaseDurationMs: number;
    renewDeadlineMs: number;
    retryPeriodMs: number;
  };
  /** git cache folder (one subfolder per PolicySource). */
  cacheDir: string;
  /** Shared secret for push webhooks (HMAC / GitLab token); undefined → webhooks are refused. */
  webhookSecret?: string;
  /** The configured secret file when it does not exist: push webhooks are off, and the start says so. */
  webhookSecretMissing?: string;
  /** Floor for PolicySource spec.interval. */
  minIntervalMs: number;
  /** Namespace for Events about cluster-scoped objects. */
  eventNamespace: string;
  logLevel: string;
  /** Development: also sync this local folder (a repository checkout), re-applied on save. */
  localDir?: { path: string; sourceName: string };
  /** PATH and HOME for git children. */
  gitEnv: { path: string; home: string };
  /** The HTTPS side (admission, report ingest, verdicts, quarantine + audit); off when absent. */
  dataPlane?: DataPlaneConfig;
}

/** The engine's HTTPS side: what the apiserver, the sidecars and analytics tools call. */
export interface DataPlaneConfig {
  listen: { host: string; port: number };
  /**
   * How the apiserver reaches the webhooks: 'service' (clientConfig.service: `service` in the
   * engine's namespace on the listen port, what deploy/ installs), 'listen' (the HTTPS listen
   * URL, for local runs where the apiserver is on the same machine) or a base URL.
   */
  webhookEndpoint: 'service' | 'listen' | { url: string };
  /**
   * `--admission`: `policy` (the apiserver injects and guards by generated admission policies),
   * `webhook` (the engine's /mutate and /validate), or `auto` (default: policy where the
   * apiserver serves MutatingAdmissionPolicy v1, webhook elsewhere; ADR 1700).
   */
  admission?: 'auto' | 'policy' | 'webhook';
  /** Where sidecars report; default: https://<service>.<namespace>.svc:<port>/api/v1/reports. */
  reportUrl?: string;
  service: string;
  serviceAccount: string;
  tlsSecret: string;
  /**
   * Usernames of the GitOps tools that apply HealthPolicies and PolicySources (Flux's
   * kustomize-controller, Argo CD's application-controller): the guard lets them write in
   * every mode, and the webhook is not even called for them (ADR 1600).
   */
  gitopsWriters: string[];
  breakGlassGroups: string[];
  sidecar: { image: string; version: string };
  /** This cluster's name in the policy repository (records/<cluster>/). */
  cluster: string;
  records?: { url: string; branch: string };
  groupWindowMs?: number;
  flushIntervalMs?: number;
  releaseIntervalMs?: number;
  /** A file holding the dashboard's bearer token; no dashboard without it. */
  dashboardTokenFile?: string;
  /** This replica's address for the other replicas when listening on a wildcard address (the pod IP). */
  advertiseHost?: string;
}
