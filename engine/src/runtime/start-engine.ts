import type { Server } from 'node:http';
import type { Router } from '@koa/router';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import {
  LocalDirRunner,
  PolicySourceReconciler,
  SourceManager,
  createSyncMetrics,
  type PolicyLoader,
} from '../apply/index.js';
import type { EngineConfig } from '../core/config.js';
import { errorMessage } from '../core/errors.js';
import { BULKHEAD_VERSION } from '../core/version.js';
import type { Logger } from '../core/logger.js';
import { KubeClient } from '../core/kube/client.js';
import { loadKubeConfig } from '../core/kube/kubeconfig.js';
import { EventRecorder } from '../core/kube/events.js';
import { LeaderElector } from '../core/kube/leader-election.js';
import type { LeaderView } from '../core/http/leader-gate.js';
import { createKubeMetrics } from '../core/kube/metrics.js';
import { ResourceResolver } from '../core/kube/resources.js';
import { loadPolicyDir } from '../policy/index.js';
import { startDataPlane, type DataPlane } from './start-data-plane.js';
import { gitHookRouter } from './git-hook-router.js';
import { watchHealthPolicies } from './health-policy-watch.js';
import { createEngineApp, listen } from './plain-http-server.js';

export interface EngineDeps {
  logger: Logger;
  /** Reads a checkout's policies/ (default: the policy stage's loader). */
  loadPolicies?: PolicyLoader;
  /** More routers to mount (admission, observe, dashboard), once those stages are wired. */
  extraRouters?: Router[];
}

export interface RunningEngine {
  url: string;
  /** The HTTPS data plane (admission, reports, verdicts), when enabled. */
  dataPlaneUrl?: string;
  isLeader(): boolean;
  stop(): Promise<void>;
}

/**
 * Wires the engine process: one kube client, the HealthPolicy view every mode keeps, and in
 * apply mode the PolicySource manager, run only while this process holds the Lease.
 */
export async function startEngine(config: EngineConfig, deps: EngineDeps): Promise<RunningEngine> {
  const { logger } = deps;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'bulkhead_process_' });
  // Which build answers, for dashboards and alerts across a rolling upgrade (one series, value 1).
  new Gauge({
    name: 'bulkhead_build_info',
    help: 'The running engine: version of Bulkhead and of Node.js (always 1)',
    labelNames: ['version', 'node'],
    registers: [registry],
  })
    .labels(BULKHEAD_VERSION, process.version)
    .set(1);
  logger.info({ version: BULKHEAD_VERSION, node: process.version }, 'bulkhead engine starting');
  const kubeMetrics = createKubeMetrics(registry);
  const syncMetrics = createSyncMetrics(registry);
  const client = new KubeClient(loadKubeConfig(config.kubeconfig), { metrics: kubeMetrics });
  const resolver = new ResourceResolver(client);
  const root = new AbortController();

  // Every mode reads HealthPolicies from the cluster: in --apply=false that is all it does.
  const policies = watchHealthPolicies({ client, logger, metrics: kubeMetrics });
  let policiesSynced = false;
  void policies.synced.then(() => {
    policiesSynced = true;
    logger.info({ policies: policies.list().length }, 'HealthPolicies loaded from the cluster');
  });

  const events = new EventRecorder(client, {
    component: 'bulkhead',
    instance: config.identity,
    clusterScopedNamespace: config.eventNamespace,
    logger,
    metrics: kubeMetrics,
  });
  let manager: SourceManager | undefined;
  let localRunner: LocalDirRunner | undefined;
  let elector: LeaderElector | undefined;
  // Declared before the elector, whose renewals publish its URL once it is up.
  let dataPlane: DataPlane | undefined = undefined;
  let leading = false;
  const running: Promise<void>[] = [];
  if (config.apply || config.dataPlane) {
    const reconciler = new PolicySourceReconciler({
      client,
      resolver,
      logger,
      events,
      metrics: syncMetrics,
      loadPolicies: deps.loadPolicies ?? ((dir) => loadPolicyDir(dir)),
      fetch: (s) =>
        localRunner && !s.metadata.uid && s.metadata.name === localRunner.sourceName
          ? localRunner.fetch()
          : manager!.fetchArtifact(s),
      forceConflicts: config.forceConflicts,
    });
    const newManager = (): SourceManager =>
      new SourceManager({
        client,
        reconciler,
        logger,
        metrics: syncMetrics,
        kubeMetrics,
        engineNamespace: config.namespace,
        cacheDir: config.cacheDir,
        gitEnv: config.gitEnv,
        minIntervalMs: config.minIntervalMs,
      });
    const lead = (signal: AbortSignal): void => {
      leading = true;
      // The data plane needs a leader too (only the leader quarantines and commits records),
      // also in --apply=false mode, where Argo CD or Flux apply the policies.
      if (!config.apply) return;
      manager = newManager();
      manager.start(signal).catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'source manager failed'));
      if (config.localDir) {
        localRunner = new LocalDirRunner(config.localDir.path, config.localDir.sourceName, reconciler, logger);
        localRunner
          .start(signal)
          .catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'local folder source failed'));
      }
    };
    if (config.leaderElection.enabled) {
      elector = new LeaderElector(client, {
        namespace: config.namespace,
        name: config.leaderElection.leaseName,
        identity: config.identity,
        leaseDurationMs: config.leaderElection.leaseDurationMs,
        renewDeadlineMs: config.leaderElection.renewDeadlineMs,
        retryPeriodMs: config.leaderElection.retryPeriodMs,
        logger,
        metrics: kubeMetrics,
        // Followers forward leader-only requests to the URL the leader publishes (ADR 1501).
        advertise: () => dataPlane?.advertiseUrl,
      });
      running.push(
        elector.run(root.signal, {
          onStartedLeading: lead,
          onStoppedLeading: () => {
            leading = false;
            manager = undefined;
            reconciler.forgetAll();
          },
        }),
      );
    } else {
      lead(root.signal);
    }
  }

  // Without leader election this process is the only replica and always leads. `forward` is
  // set once the data plane (which holds the TLS material it verifies the leader with) is up.
  const leader: LeaderView = {
    isLeader: () => (config.leaderElection.enabled ? leading : true),
    holder: () => (config.leaderElection.enabled ? elector?.holder() : config.identity),
    holderUrl: () => elector?.holderUrl(),
  };
  // Push hooks: on the HTTP port (where git hosts are pointed) and on the HTTPS port, where a
  // follower forwards the ones it receives to the leader (ADR 1501).
  const hooks = gitHookRouter({
    secret: config.webhookSecret,
    logger,
    leader,
    trigger: (name) => {
      if (!manager || !leading) return 'not-leader';
      return manager.trigger(name, 'webhook') ? 'queued' : 'unknown';
    },
  });
  dataPlane = config.dataPlane
    ? await startDataPlane(config.dataPlane, {
        kubeConfig: client.kubeConfig,
        client,
        resolver,
        events,
        logger,
        registry,
        engineNamespace: config.namespace,
        identity: config.identity,
        leader,
        policies,
        cacheDir: config.cacheDir,
        gitEnv: config.gitEnv,
        extraRouters: [hooks],
        // Edits made while the guard was gone are drift: every source syncs now, not at its interval.
        onGuardRestored: (what) => {
          const m = leading ? manager : undefined;
          for (const name of m?.sources() ?? []) void m!.trigger(name, 'guard');
          logger.warn({ restored: what }, 'guard restored: re-syncing every PolicySource to undo edits made meanwhile');
        },
      })
    : undefined;
  if (dataPlane) leader.forward = dataPlane.forward;

  const app = createEngineApp({
    logger,
    registry,
    ready: () => {
      if (!policiesSynced) return { ready: false, reason: 'HealthPolicies not listed yet' };
      if (leading && manager && !manager.initialSyncDone())
        return { ready: false, reason: 'first sync of every PolicySource not done' };
      if (leading && localRunner && !localRunner.initialSyncDone())
        return { ready: false, reason: 'first sync of the local folder not done' };
      return { ready: true };
    },
    routers: [hooks, ...(deps.extraRouters ?? [])],
  });
  if (config.webhookSecretMissing)
    logger.warn(
      { file: config.webhookSecretMissing },
      'push webhooks off: the secret file does not exist (Secret bulkhead-webhook not created); sources are polled only',
    );
  const { server, url } = await listen(app, config.listen.host, config.listen.port);
  logger.info(
    {
      url,
      ...(dataPlane ? { dataPlaneUrl: dataPlane.url } : {}),
      identity: config.identity,
      apply: config.apply,
      leaderElection: config.leaderElection.enabled,
    },
    'engine started',
  );

  return {
    url,
    ...(dataPlane ? { dataPlaneUrl: dataPlane.url } : {}),
    isLeader: () => leading,
    stop: async () => {
      root.abort();
      await dataPlane?.stop();
      await Promise.allSettled(running);
      await manager?.stop();
      await policies.stop();
      await closeServer(server);
      client.close();
    },
  };
}

const closeServer = (server: Server): Promise<void> =>
  new Promise((ok) => {
    server.closeAllConnections();
    server.close(() => ok());
  });
