import { createHealthMetricsRouter } from '../export/index.js';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import {
  DEFAULT_TLS_TIMING,
  resolveAdmissionMode,
  serviceSans,
  startAdmission,
  startRolloutController,
  startSidecarPullGuard,
  type AdmissionRuntime,
  type InjectablePolicy,
} from '../admission/index.js';
import { recordsSourceOf } from '../audit/index.js';
import { GROUP, PLURAL, VERSION, type PolicySource } from '../core/api/index.js';
import { credentialsFromSecretData, type GitCredentials } from '../source/index.js';
import type { DataPlaneConfig } from '../core/config.js';
import type { LeaderView } from '../core/http/leader-gate.js';
import { createLeaderForward, type LeaderForward } from '../core/http/leader-forward.js';
import type { Router } from '@koa/router';
import type { KubeClient } from '../core/kube/client.js';
import type { EventRecorder } from '../core/kube/events.js';
import type { ResourceResolver } from '../core/kube/resources.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { isNotFound } from '../core/kube/client.js';
import { createDashboardRouter, readDashboardToken } from '../dashboard/index.js';
import { createObserve, injectedBySidecar, PolicyForwarding, REPORTS_PATH, type Observe } from '../observe/index.js';
import type { HealthPolicyWatch } from './health-policy-watch.js';
import { RUN_DEFAULTS } from './defaults.js';
import { watchAvoidedNodes } from '../quarantine/index.js';
import { startQuarantinePipeline, type QuarantinePipeline, type RecordsTarget } from './quarantine-pipeline.js';
import { startPolicyStatusWriter } from './health-policy-status-writer.js';

export type { DataPlaneConfig };

export interface DataPlaneDeps {
  kubeConfig: KubeConfig;
  client: KubeClient;
  resolver: ResourceResolver;
  events: EventRecorder;
  logger: Logger;
  registry: Registry;
  engineNamespace: string;
  /** This replica in the Lease. */
  identity: string;
  /** Who leads: only the leader ingests reports, takes verdicts and acts (ADR 1500). */
  leader: LeaderView;
  /** The engine's HealthPolicy watch, shared by the pipeline, spec.forward and admission. */
  policies: HealthPolicyWatch;
  cacheDir: string;
  gitEnv: { path: string; home: string };
  /** More routes on the HTTPS port (push hooks: followers forward them here, ADR 1501). */
  extraRouters?: Router[];
  /** The guard's configuration was deleted and is back: re-sync what it guards (ADR 1412). */
  onGuardRestored?: (what: string) => void;
}

export interface DataPlane {
  url: string;
  /**
   * The URL other replicas reach this one at (published on the Lease while it leads): the
   * listen URL, or the pod IP on a wildcard listen address; undefined when neither is known.
   */
  advertiseUrl?: string;
  /** How this replica relays a request to the leader when it follows (ADR 1501). */
  forward: LeaderForward;
  /** The CA sidecars and callers verify the HTTPS endpoint with. */
  caBundle(): string;
  observe: Observe;
  pipeline: QuarantinePipeline;
  admission: AdmissionRuntime;
  stop(): Promise<void>;
}

/**
 * One HTTPS server (self-managed TLS from a Secret shared by the replicas, hot-reloaded) for
 * /mutate and /validate (admission), /api/v1/reports and /api/v1/health (observe) and
 * /api/v1/verdicts; every accepted report wakes the analytics → quarantine → audit pipeline.
 */
export async function startDataPlane(cfg: DataPlaneConfig, deps: DataPlaneDeps): Promise<DataPlane> {
  const { logger } = deps;
  // The store is created before the pipeline that listens to it: a holder breaks the cycle.
  const wake: { notify?: (uid: string) => void } = {};
  const forwarding = new PolicyForwarding();
  const observe = createObserve({
    kubeConfig: deps.kubeConfig,
    registry: deps.registry,
    logger,
    store: { onChange: (uid: string) => wake.notify?.(uid) },
    forward: { targets: forwarding.targetsFor },
    podWatch: { matches: injectedBySidecar },
    leader: deps.leader,
  });
  // spec.forward targets follow the policies; secretRefs are read from the engine's namespace.
  const refreshForwarding = async (): Promise<void> => {
    const policies = deps.policies.list();
    const secrets = new Map<string, Record<string, string>>();
    for (const name of new Set(
      policies.flatMap((p) => (p.spec.forward ?? []).flatMap((f) => (f.secretRef ? [f.secretRef.name] : []))),
    )) {
      const data = await engineSecretData(deps, name);
      if (data)
        secrets.set(
          name,
          Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])),
        );
    }
    const problems = forwarding.update(policies, (ref) => secrets.get(ref.name)?.[ref.key ?? 'token']);
    // Said once when a problem appears, not at every refresh (a missing Secret otherwise logs
    // a warning every 10 s for as long as it is missing); bounded by the forward endpoints.
    const now = new Set<string>();
    for (const p of problems) {
      const key = JSON.stringify([p.policy, p.url, p.message]);
      now.add(key);
      if (!reportedForwardProblems.has(key))
        logger.warn({ policy: p.policy, url: p.url, problem: p.message }, 'forward endpoint refused');
    }
    reportedForwardProblems = now;
  };
  let reportedForwardProblems = new Set<string>();
  const forwardTimer = setInterval(
    () =>
      void refreshForwarding().catch((err: unknown) =>
        logger.warn({ err: errorMessage(err) }, 'forward targets not refreshed'),
      ),
    10_000,
  );
  await refreshForwarding().catch(() => {});
  const pipeline = startQuarantinePipeline({
    client: deps.client,
    resolver: deps.resolver,
    events: deps.events,
    logger,
    registry: deps.registry,
    store: observe.store,
    identityRejections: observe.identityRejections,
    authenticator: observe.authenticator,
    policy: (name) => deps.policies.get(name),
    isLeader: () => deps.leader.isLeader(),
    leader: deps.leader,
    cluster: cfg.cluster,
    engineNamespace: deps.engineNamespace,
    identity: deps.identity,
    // Records go where --records-repo says, else to the synced PolicySource's repository
    // (its recordsBranch, else the branch it syncs), with the same credentials.
    records: cfg.records ? { ...cfg.records, cacheDir: deps.cacheDir } : () => syncedRecordsTarget(deps),
    env: deps.gitEnv,
    ...(cfg.groupWindowMs !== undefined ? { groupWindowMs: cfg.groupWindowMs } : {}),
    ...(cfg.flushIntervalMs !== undefined ? { flushIntervalMs: cfg.flushIntervalMs } : {}),
    ...(cfg.releaseIntervalMs !== undefined ? { releaseIntervalMs: cfg.releaseIntervalMs } : {}),
  });
  wake.notify = (uid) => pipeline.notify(uid);
  // The read-only dashboard, only when a token is configured: no token, no page.
  const token = cfg.dashboardTokenFile ? await optionalDashboardToken(cfg.dashboardTokenFile, logger) : undefined;
  const dashboard = token
    ? createDashboardRouter({
        client: deps.client,
        store: observe.store,
        token,
        logger,
        registry: deps.registry,
        leader: deps.leader,
      })
    : undefined;
  const port = cfg.listen.port;
  const sidecar = {
    image: cfg.sidecar.image,
    version: cfg.sidecar.version,
    reportUrl: cfg.reportUrl ?? `https://${cfg.service}.${deps.engineNamespace}.svc:${port}${REPORTS_PATH}`,
  };
  // replacement.avoidNode: AntiAffinity: every replica's webhook keeps an owner's new pods off
  // the node its quarantined pod failed on.
  const avoided = watchAvoidedNodes({ client: deps.client, logger });
  // Admission registers its webhooks from the policies it sees at start: not before the
  // watch's first attempt is over, as with admission's own watch.
  await deps.policies.started;
  // Which path injects and guards: asked of discovery once, at start (ADR 1700).
  const mode = await resolveAdmissionMode(deps.kubeConfig, cfg.admission ?? RUN_DEFAULTS.admission);
  logger.info({ mode: mode.mode, why: mode.why }, 'admission path');
  const admission = await startAdmission({
    mode: mode.mode,
    ...(mode.auto ? { auto: true } : {}),
    kubeConfig: deps.kubeConfig,
    logger,
    registry: deps.registry,
    engineNamespace: deps.engineNamespace,
    engineUsernames: [`system:serviceaccount:${deps.engineNamespace}:${cfg.serviceAccount}`],
    gitopsWriters: cfg.gitopsWriters,
    breakGlassGroups: cfg.breakGlassGroups,
    sidecar,
    tls: {
      secretName: cfg.tlsSecret,
      settings: {
        ...DEFAULT_TLS_TIMING,
        dnsNames: serviceSans(cfg.service, deps.engineNamespace),
        ipAddresses: ['127.0.0.1'],
      },
    },
    // Only the leader rotates the TLS material; followers load what it writes.
    isLeader: () => deps.leader.isLeader(),
    listen: cfg.listen,
    ...(webhookEndpoint(cfg, deps.engineNamespace) ?? {}),
    policies: deps.policies.forAdmission(),
    avoidNodes: avoided.nodesFor,
    ...(deps.onGuardRestored ? { onWebhooksRestored: deps.onGuardRestored } : {}),
    extraRouters: [
      observe.router,
      createHealthMetricsRouter({
        authenticator: observe.authenticator,
        readAuthorizer: observe.readAuthorizer,
        store: observe.store,
        leader: deps.leader,
      }),
      pipeline.verdictRouter,
      pipeline.receiverRouter,
      ...(dashboard ? [dashboard] : []),
      ...(deps.extraRouters ?? []),
    ],
  });
  const forward = createLeaderForward({
    ca: () => admission.tls.material?.bundle ?? '',
    serverName: `${cfg.service}.${deps.engineNamespace}.svc`,
    identity: deps.identity,
    leader: () => deps.leader.holder(),
    logger,
  });
  const advertiseUrl = advertisedUrl(admission.url, cfg.advertiseHost);
  logger.info({ url: admission.url }, 'data plane serving admission, reports and verdicts');
  const rollout = startRolloutController({
    kubeConfig: deps.kubeConfig,
    index: () => admission.index(),
    sidecar,
    isLeader: () => deps.leader.isLeader(),
    logger,
  });
  // An unpullable sidecar image pauses injection for its policy instead of stalling rollouts.
  const pullGuard = startSidecarPullGuard({
    client: deps.client,
    policies: () => deps.policies.list() as unknown as InjectablePolicy[],
    image: sidecar.image,
    isLeader: () => deps.leader.isLeader(),
    logger,
  });
  // HealthPolicy status (Ready, matchedPods, sourceRevision): written by the leader alone.
  const policyStatus = startPolicyStatusWriter({
    client: deps.client,
    logger,
    policies: deps.policies,
    admission,
    isLeader: () => deps.leader.isLeader(),
  });
  return {
    url: admission.url,
    ...(advertiseUrl ? { advertiseUrl } : {}),
    forward,
    caBundle: () => admission.tls.material?.bundle ?? '',
    observe,
    pipeline,
    admission,
    async stop() {
      clearInterval(forwardTimer);
      policyStatus.stop();
      rollout.stop();
      pullGuard.stop();
      await avoided.watch.stop();
      await pipeline.stop();
      await admission.close();
      await observe.close();
    },
  };
}

/** The listen URL, with a wildcard host replaced by `host` (the pod IP); undefined if it stays a wildcard. */
export function advertisedUrl(listenUrl: string, host: string | undefined): string | undefined {
  const u = new URL(listenUrl);
  if (!['0.0.0.0', '[::]', '::'].includes(u.hostname)) return listenUrl;
  if (!host) return undefined;
  u.hostname = host.includes(':') ? `[${host}]` : host;
  return u.origin;
}

/**
 * The dashboard token, or undefined when its file does not exist: deploy/ mounts Secret
 * `bulkhead-dashboard` optional (`bulkhead install` creates it), so an install without it
 * runs with the dashboard off and says so once, instead of crash-looping (ADR 1001). A file
 * that exists but cannot be read, or a weak token, still fails the start.
 */
async function optionalDashboardToken(file: string, logger: Logger): Promise<string | undefined> {
  try {
    return await readDashboardToken(file);
  } catch (err) {
    if ((err as { cause?: NodeJS.ErrnoException }).cause?.code !== 'ENOENT') throw err;
    logger.warn(
      { file },
      'dashboard off: its token file does not exist (create Secret bulkhead-dashboard with key token, then restart the engine)',
    );
    return undefined;
  }
}

/**
 * The webhooks' clientConfig: the Service by default, so the apiserver calls
 * https://<service>.<namespace>.svc:<port> and verifies the serving certificate against the
 * Service DNS names it carries (serviceSans); the listen URL only when asked for (local runs:
 * a wildcard listen address is no address the apiserver can call). The Service's https port
 * must be the HTTPS listen port, as in deploy/engine/service.yaml.
 */
function webhookEndpoint(cfg: DataPlaneConfig, namespace: string) {
  const e = cfg.webhookEndpoint;
  if (e === 'listen') return undefined; // admission's default: its own listen URL
  if (e === 'service') return { endpoint: { service: { namespace, name: cfg.service, port: cfg.listen.port } } };
  return { endpoint: { url: e.url } };
}

/** The synced PolicySource's repository as the records target (audit's rule), with its credentials. */
async function syncedRecordsTarget(deps: DataPlaneDeps): Promise<RecordsTarget | undefined> {
  const list = await deps.client.request<{ items: PolicySource[] }>({
    method: 'GET',
    path: `/apis/${GROUP}/${VERSION}/${PLURAL.PolicySource}`,
  });
  const source = recordsSourceOf(list.items);
  if (!source) return undefined;
  let credentials: GitCredentials | undefined;
  if (source.secretName) credentials = credentialsFromSecretData(await engineSecretData(deps, source.secretName));
  return {
    url: source.url,
    branch: source.branch,
    ...(source.baseBranch ? { baseBranch: source.baseBranch } : {}),
    source: source.source,
    cacheDir: deps.cacheDir,
    ...(credentials ? { credentials } : {}),
  };
}

/** A Secret's `data` (base64 values) in the engine's namespace; undefined when it does not exist. */
async function engineSecretData(deps: DataPlaneDeps, name: string): Promise<Record<string, string> | undefined> {
  const secret = await deps.client
    .request<{ data?: Record<string, string> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${encodeURIComponent(deps.engineNamespace)}/secrets/${encodeURIComponent(name)}`,
    })
    .catch((e: unknown) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
  return secret?.data;
}
