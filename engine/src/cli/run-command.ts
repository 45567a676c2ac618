import { readFileSync } from 'node:fs';
import { hostname, homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { EngineConfig } from '../core/config.js';
import { parseDuration } from '../core/duration.js';
import { createLogger } from '../core/logger.js';
import type { CommandRegistrar } from './command.js';
import { SIDECAR_IMAGE_ENV } from './install/sidecar-image.js';
import { GITOPS_WRITER_EXAMPLES, parseIdentities } from '../admission/index.js';
import { RUN_DEFAULTS, startEngine } from '../runtime/index.js';

export interface RunFlags {
  kubeconfig?: string;
  namespace?: string;
  identity?: string;
  listen: string;
  apply?: string;
  forceConflicts: boolean;
  leaderElect: string;
  leaseName: string;
  leaseDuration: string;
  renewDeadline: string;
  retryPeriod: string;
  cacheDir?: string;
  webhookSecretFile?: string;
  minInterval: string;
  eventNamespace: string;
  logLevel: string;
  dir?: string;
  dirSourceName: string;
  https?: string;
  webhookUrl?: string;
  admission?: string;
  reportUrl?: string;
  service: string;
  serviceAccount: string;
  tlsSecret: string;
  breakGlassGroup: string[];
  gitopsWriters?: string[];
  sidecarImage?: string;
  sidecarVersion: string;
  clusterName?: string;
  recordsRepo?: string;
  recordsBranch: string;
  groupWindow: string;
  flushInterval: string;
  releaseInterval: string;
  dashboardTokenFile?: string;
}

const hostPort = (v: string, defaultPort: number): { host: string; port: number } => {
  const i = v.lastIndexOf(':');
  return i < 0
    ? { host: '0.0.0.0', port: Number.parseInt(v, 10) }
    : { host: v.slice(0, i) || '0.0.0.0', port: Number.parseInt(v.slice(i + 1) || String(defaultPort), 10) };
};

const bool = (name: string, v: string): boolean => {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new Error(`--${name} must be true or false, got "${v}"`);
};

/**
 * The push-webhook secret from its file, or undefined when the file does not exist or is
 * empty. deploy/ mounts Secret `bulkhead-webhook` optional: a user who does not use push
 * webhooks never creates it, and the engine then polls only (ADR 1000). Any other read error
 * (a permission problem, a directory) still fails the start: that is a broken mount.
 */
function readOptionalSecret(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** `--admission`: one of ADMISSION_MODES. */
function admissionMode(v: string | undefined): 'auto' | 'policy' | 'webhook' {
  const mode = v ?? RUN_DEFAULTS.admission;
  if (mode === 'auto' || mode === 'policy' || mode === 'webhook') return mode;
  throw new Error(`--admission must be auto, policy or webhook, got "${mode}"`);
}

/** `--webhook-url`: absent → the Service (as deploy/ installs it); `listen` → the HTTPS listen URL; else that URL. */
function webhookEndpoint(v: string | undefined): NonNullable<EngineConfig['dataPlane']>['webhookEndpoint'] {
  if (v === undefined || v === 'service') return 'service';
  if (v === 'listen') return 'listen';
  if (!/^https:\/\//.test(v))
    throw new Error(`--webhook-url must be an https:// URL, "service" or "listen", got "${v}"`);
  return { url: v };
}

/** Flags + environment → EngineConfig, once. The only place the engine's env is read. */
export function buildEngineConfig(f: RunFlags, env: NodeJS.ProcessEnv = process.env): EngineConfig {
  const secretFile = f.webhookSecretFile ?? env.BULKHEAD_WEBHOOK_SECRET_FILE;
  const fromFile = secretFile ? readOptionalSecret(secretFile) : undefined;
  const webhookSecret = secretFile ? fromFile : env.BULKHEAD_WEBHOOK_SECRET;
  const namespace = f.namespace ?? env.BULKHEAD_NAMESPACE ?? env.POD_NAMESPACE ?? RUN_DEFAULTS.namespace;
  return {
    ...(f.kubeconfig ? { kubeconfig: f.kubeconfig } : {}),
    namespace,
    identity: f.identity ?? env.POD_NAME ?? `${hostname()}-${process.pid}`,
    listen: hostPort(f.listen, RUN_DEFAULTS.httpPort),
    apply: bool(f.apply !== undefined ? 'apply' : 'apply ($BULKHEAD_APPLY)', f.apply ?? env.BULKHEAD_APPLY ?? 'true'),
    forceConflicts: f.forceConflicts,
    leaderElection: {
      enabled: bool('leader-elect', f.leaderElect),
      leaseName: f.leaseName,
      leaseDurationMs: parseDuration(f.leaseDuration),
      renewDeadlineMs: parseDuration(f.renewDeadline),
      retryPeriodMs: parseDuration(f.retryPeriod),
    },
    cacheDir: f.cacheDir ?? env.BULKHEAD_CACHE_DIR ?? join(tmpdir(), `bulkhead-git-${process.pid}`),
    ...(webhookSecret ? { webhookSecret } : {}),
    ...(secretFile && !fromFile ? { webhookSecretMissing: secretFile } : {}),
    minIntervalMs: parseDuration(f.minInterval),
    eventNamespace: f.eventNamespace,
    logLevel: f.logLevel ?? env.BULKHEAD_LOG_LEVEL ?? RUN_DEFAULTS.logLevel,
    ...(f.dir ? { localDir: { path: resolve(f.dir), sourceName: f.dirSourceName } } : {}),
    gitEnv: { path: env.PATH ?? '/usr/bin:/bin', home: env.HOME ?? homedir() },
    ...(f.https
      ? {
          dataPlane: {
            listen: hostPort(f.https, RUN_DEFAULTS.httpsPort),
            webhookEndpoint: webhookEndpoint(f.webhookUrl),
            admission: admissionMode(f.admission),
            ...(f.reportUrl ? { reportUrl: f.reportUrl } : {}),
            service: f.service,
            serviceAccount: f.serviceAccount,
            tlsSecret: f.tlsSecret,
            breakGlassGroups: f.breakGlassGroup,
            gitopsWriters: parseIdentities(
              f.gitopsWriters ? '--gitops-writers' : '$BULKHEAD_GITOPS_WRITERS',
              f.gitopsWriters ?? env.BULKHEAD_GITOPS_WRITERS,
            ),
            sidecar: {
              image: f.sidecarImage ?? env[SIDECAR_IMAGE_ENV] ?? RUN_DEFAULTS.sidecarImage,
              version: f.sidecarVersion,
            },
            cluster: f.clusterName ?? env.BULKHEAD_CLUSTER_NAME ?? RUN_DEFAULTS.clusterName,
            ...((f.recordsRepo ?? env.BULKHEAD_RECORDS_REPO)
              ? { records: { url: (f.recordsRepo ?? env.BULKHEAD_RECORDS_REPO)!, branch: f.recordsBranch } }
              : {}),
            groupWindowMs: parseDuration(f.groupWindow),
            flushIntervalMs: parseDuration(f.flushInterval),
            releaseIntervalMs: parseDuration(f.releaseInterval),
            ...(f.dashboardTokenFile ? { dashboardTokenFile: f.dashboardTokenFile } : {}),
            // deploy/ passes the pod IP: followers forward leader-only requests to it (ADR 1501).
            ...(env.POD_IP ? { advertiseHost: env.POD_IP } : {}),
          },
        }
      : {}),
  };
}

/**
 * `bulkhead run`: the engine process. Syncs every PolicySource into the cluster while it holds
 * the Lease; serves /healthz, /readyz, /metrics and push webhooks at /hooks/git/<source>.
 */
export const registerRunCommand: CommandRegistrar = (program: Command, setExit) => {
  program
    .command('run')
    .description('run the engine: sync PolicySources from git into the cluster (leader-elected)')
    .option('--kubeconfig <path>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .option(
      '--namespace <ns>',
      `the engine's namespace: its Lease and the Secrets sources reference ($BULKHEAD_NAMESPACE, $POD_NAMESPACE; default ${RUN_DEFAULTS.namespace})`,
    )
    .option('--identity <id>', 'this process in the Lease ($POD_NAME; default host-pid)')
    .option('--listen <host:port>', 'HTTP address for /healthz, /readyz, /metrics, /hooks/git', RUN_DEFAULTS.listen)
    .option(
      '--apply <bool>',
      'false: read-only mode, Argo CD or Flux apply `bulkhead render` output ($BULKHEAD_APPLY; default true)',
    )
    .option(
      '--force-conflicts',
      'take fields another declarative field manager owns instead of reporting the conflict',
      false,
    )
    .option('--leader-elect <bool>', 'elect a leader through a Lease (only the leader writes)', 'true')
    .option('--lease-name <name>', 'Lease name', RUN_DEFAULTS.leaseName)
    .option('--lease-duration <d>', 'how long a silent leader keeps the Lease', RUN_DEFAULTS.leaseDuration)
    .option('--renew-deadline <d>', 'a leader that cannot renew this long steps down', RUN_DEFAULTS.renewDeadline)
    .option('--retry-period <d>', 'how often to renew or try to acquire', RUN_DEFAULTS.retryPeriod)
    .option('--cache-dir <dir>', 'git cache folder ($BULKHEAD_CACHE_DIR)')
    .option(
      '--webhook-secret-file <path>',
      'file with the push-webhook secret ($BULKHEAD_WEBHOOK_SECRET_FILE or $BULKHEAD_WEBHOOK_SECRET); a missing file disables push webhooks (polling only)',
    )
    .option('--min-interval <d>', 'floor for a PolicySource interval', RUN_DEFAULTS.minInterval)
    .option(
      '--event-namespace <ns>',
      'namespace for Events about cluster-scoped objects (the apiserver only accepts "default")',
      RUN_DEFAULTS.eventNamespace,
    )
    .option('--log-level <level>', 'log level', RUN_DEFAULTS.logLevel)
    .option(
      '--dir <folder>',
      'development: also sync this local checkout (policies/, bulkhead.yaml), re-applied on every save',
    )
    .option(
      '--dir-source-name <name>',
      'inventory name of the --dir source (what its prune is scoped to)',
      RUN_DEFAULTS.dirSourceName,
    )
    .option(
      '--https <host:port>',
      'serve the data plane here: admission webhooks, sidecar reports, verdicts, dashboard (off when not given)',
    )
    .option(
      '--webhook-url <url>',
      'how the apiserver reaches the webhooks: "service" (default: clientConfig.service, the --service on the --https port), "listen" (the --https address, for local runs) or a base https:// URL',
    )
    .option(
      '--admission <mode>',
      'how pods are injected and git-managed objects guarded: "policy" (MutatingAdmissionPolicy and ValidatingAdmissionPolicy run by the apiserver), "webhook" (the engine\'s /mutate and /validate) or "auto" (policy where the apiserver serves admissionregistration.k8s.io/v1 MutatingAdmissionPolicy, webhook elsewhere)',
      RUN_DEFAULTS.admission,
    )
    .option(
      '--report-url <url>',
      'where injected sidecars report (default: https://<service>.<namespace>.svc:<port>/api/v1/reports)',
    )
    .option('--service <name>', "the engine's Service (serving-cert SANs, default report URL)", RUN_DEFAULTS.service)
    .option(
      '--service-account <name>',
      "the engine's ServiceAccount (the GitOps guard lets it write)",
      RUN_DEFAULTS.serviceAccount,
    )
    .option(
      '--tls-secret <name>',
      'Secret with the webhook CA and serving cert (shared by the replicas)',
      RUN_DEFAULTS.tlsSecret,
    )
    .option(
      '--gitops-writers <user...>',
      `usernames of the GitOps tools that apply HealthPolicies and PolicySources: the guard lets them write in every mode, also while no engine runs ($BULKHEAD_GITOPS_WRITERS, comma-separated; e.g. Flux ${GITOPS_WRITER_EXAMPLES.flux}, Argo CD ${GITOPS_WRITER_EXAMPLES.argocd})`,
    )
    .option('--break-glass-group <group...>', 'groups the GitOps guard lets write git-managed objects', [
      ...RUN_DEFAULTS.breakGlassGroups,
    ])
    .option(
      '--sidecar-image <image>',
      `image of the injected sidecar ($${SIDECAR_IMAGE_ENV}; default ${RUN_DEFAULTS.sidecarImage})`,
    )
    .option('--sidecar-version <v>', 'sidecar version recorded in bulkhead.dev/injected', RUN_DEFAULTS.sidecarVersion)
    .option(
      '--cluster-name <name>',
      'this cluster in the policy repository: records go to records/<name>/ ($BULKHEAD_CLUSTER_NAME)',
    )
    .option('--records-repo <url>', 'git URL the quarantine records are committed to ($BULKHEAD_RECORDS_REPO)')
    .option(
      '--records-branch <branch>',
      'branch for the records (the synced branch, or a dedicated one)',
      RUN_DEFAULTS.recordsBranch,
    )
    .option('--group-window <d>', 'how long failing pods are gathered into one incident', RUN_DEFAULTS.groupWindow)
    .option('--flush-interval <d>', 'audit outbox drain interval', RUN_DEFAULTS.flushInterval)
    .option(
      '--release-interval <d>',
      'how often git is read for released records and TTLs',
      RUN_DEFAULTS.releaseInterval,
    )
    .option(
      '--dashboard-token-file <path>',
      'bearer token for the read-only dashboard (no dashboard without it; a missing file is logged and leaves it off)',
    )
    .action(async (flags: RunFlags) => {
      const config = buildEngineConfig(flags);
      const logger = createLogger({ level: config.logLevel });
      const engine = await startEngine(config, { logger });
      await new Promise<void>((ok) => {
        process.once('SIGINT', ok);
        process.once('SIGTERM', ok);
      });
      logger.info('shutting down');
      await engine.stop();
      setExit(0);
    });
};
