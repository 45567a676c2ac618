import type { Router } from '@koa/router';
import type { Registry } from 'prom-client';
import { Evaluator, type Verdict } from '../analytics/index.js';
import { excludedNamespaces } from '../admission/index.js';
import {
  createAuditMetrics,
  createOutboxDrain,
  DrainScheduler,
  recordsRepoFor,
  releaseFromGit,
  type RecordsTarget,
} from '../audit/index.js';
import { LABEL, type HealthPolicy } from '../core/api/index.js';
import { parseDuration } from '../core/duration.js';
import type { KubeClient } from '../core/kube/client.js';
import type { EventRecorder } from '../core/kube/events.js';
import type { ResourceResolver } from '../core/kube/resources.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { HealthStore, TokenAuthenticator } from '../observe/index.js';
import {
  createQuarantineMetrics,
  createVerdictRouter,
  executeVerdict,
  judgingPolicy,
  LeaderResume,
  namespaceLabelsReader,
  PodFactsCache,
  podReader,
  resumeFromCluster,
  siblingPods,
  startIsolationKeeper,
  type QuarantineDeps,
} from '../quarantine/index.js';
import { createReceiverRouter } from '../receivers/index.js';
import { RUN_DEFAULTS } from './defaults.js';
import type { LeaderView } from '../core/http/leader-gate.js';

export type { RecordsTarget };

export interface QuarantinePipelineOptions {
  client: KubeClient;
  resolver: ResourceResolver;
  events: EventRecorder;
  logger: Logger;
  registry: Registry;
  store: HealthStore;
  /** Refused reports counted per sending pod (observe's), for the IdentityRejected detector. */
  identityRejections?: { of(uid: string): readonly number[] };
  authenticator: TokenAuthenticator;
  /** The current HealthPolicies by name (the engine's watch). */
  policy(name: string): HealthPolicy | undefined;
  isLeader(): boolean;
  /** Verdicts are taken by the leader only; a follower answers 421 naming it. */
  leader?: LeaderView;
  cluster: string;
  engineNamespace: string;
  /**
   * This replica in the Lease. With it, every decision claims its budget in the engine's
   * namespace first (ConfigMap bulkhead-budget, ADR 1501), as the engine runs; without it
   * (single-process tools and tests) the budget is checked against the cluster only.
   */
  identity?: string;
  /**
   * Where records go: fixed, or looked up each cycle (the synced PolicySource by default).
   * Without one, quarantines still happen and stay audit Pending until there is.
   */
  records?: RecordsTarget | (() => Promise<RecordsTarget | undefined>);
  env: { path: string; home: string };
  flushIntervalMs?: number;
  releaseIntervalMs?: number;
  groupWindowMs?: number;
  now?: () => Date;
}

export interface QuarantinePipeline {
  /** Call when a pod's window changed (a report or a pod event arrived). */
  notify(uid: string): void;
  verdictRouter: Router;
  /** Alertmanager and Falcosidekick webhooks, onto the verdict intake (ADR 1810). */
  receiverRouter: Router;
  evaluator: Evaluator;
  /** Runs one audit flush now (tests, shutdown). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * analytics → quarantine → audit, wired: reports make pods dirty; verdicts are carried out at
 * once (only by the leader: a follower keeps evaluating so it is warm when it takes over, but
 * never writes); the audit outbox is drained on a short timer and right after each verdict;
 * releases are read from git on a slower timer. On becoming leader, quarantines a previous
 * leader left half-done are finished first. The parts live in their stages (the pod-facts
 * cache, metrics and leader resume in quarantine/, the drain and its scheduler in audit/);
 * this is the order they run in.
 */
export function startQuarantinePipeline(opts: QuarantinePipelineOptions): QuarantinePipeline {
  const { logger } = opts;
  const now = opts.now ?? (() => new Date());
  const qdeps: QuarantineDeps = {
    client: opts.client,
    resolver: opts.resolver,
    events: opts.events,
    logger,
    now,
    cluster: opts.cluster,
    protectedNamespaces: new Set([opts.engineNamespace]),
    ...(opts.identity ? { budgetLedger: { namespace: opts.engineNamespace, identity: opts.identity } } : {}),
    policyUid: (name) => (opts.policy(name)?.metadata as { uid?: string } | undefined)?.uid,
  };
  const metrics = createQuarantineMetrics(opts.registry);
  const auditMetrics = createAuditMetrics(opts.registry);
  const facts = new PodFactsCache({ read: podReader(opts.client), now });
  const judging = {
    policy: opts.policy,
    namespaceLabels: namespaceLabelsReader(opts.client),
    excludedNamespaces: new Set(excludedNamespaces(opts.engineNamespace)),
  };

  // Verdicts being carried out: the outbox waits for them, so a failing pod's record is written
  // only once its whole decision (the siblings' actions too) is in its Quarantine. The evaluator
  // awaits each verdict, so this holds one or two at a time.
  const inFlight = new Set<Promise<unknown>>();
  let verdictEpoch = 0; // bumped when a verdict starts or ends
  const quietRead = async <T>(read: () => Promise<T>): Promise<T> => {
    // Bounded: under a storm of verdicts the records still go out (at worst one misses a
    // sibling's step, which its own Quarantine still shows).
    for (let attempt = 1; ; attempt++) {
      const epoch = verdictEpoch;
      await Promise.allSettled([...inFlight]);
      const result = await read();
      // No verdict started or ended around the read: none was half-done while it ran.
      if ((epoch === verdictEpoch && inFlight.size === 0) || attempt >= 10) return result;
    }
  };
  const onVerdict = async (verdict: Verdict, policy: HealthPolicy): Promise<void> => {
    if (!opts.isLeader()) {
      logger.info({ incident: verdict.incident.key }, 'not the leader: verdict left to the leader');
      return;
    }
    const end = metrics.verdictSeconds.startTimer();
    const running = executeVerdict(qdeps, verdict, policy.spec.action.releaseAfter);
    inFlight.add(running);
    verdictEpoch++;
    const result = await running.finally(() => {
      inFlight.delete(running);
      verdictEpoch++;
    });
    end();
    for (const t of result.taken) metrics.verdicts.inc({ action: t.action, outcome: t.outcome });
    logger.info(
      {
        policy: result.policy,
        incident: verdict.incident.key,
        taken: result.taken.map((t) => `${t.namespace}/${t.pod}:${t.action}:${t.outcome}`),
      },
      'verdict carried out',
    );
    // Push the record right away instead of at the next tick.
    drain.soon(50);
  };

  const evaluator = new Evaluator({
    health: (uid) => opts.store.get(uid),
    peers: (namespace, policy) => opts.store.query({ namespace }).filter((h) => h.policy === policy),
    facts: (pod) => facts.get(pod),
    // The policy comes from the cluster (injection annotation, live policy, still selecting
    // the pod; ADR 1400), never from the report; the store keeps it for the sibling lookup.
    // A pod already quarantined is not judged again; its fate is in git now.
    policyFor: async (h, f) => {
      const judged = await judgingPolicy(
        f.injectedPolicy,
        { namespace: h.namespace, name: h.pod, labels: f.labels },
        judging,
      );
      opts.store.setPolicy(h.uid, judged.policy?.metadata.name);
      return f.labels[LABEL.quarantined] === 'true' ? undefined : judged.policy;
    },
    // Siblings for spec.action.similar: the pods the policy selects, as the cluster has them.
    population: siblingPods(opts.client),
    ...(opts.identityRejections ? { identityRejections: (uid: string) => opts.identityRejections!.of(uid) } : {}),
    onVerdict,
    logger,
    groupWindowMs: opts.groupWindowMs ?? parseDuration(RUN_DEFAULTS.groupWindow),
  });

  // While a Quarantine is Isolated, what the quarantine did stays done (ADR 1410): a release
  // (git or releaseAfter) runs exclusive of the keeper's checks.
  const keeper = startIsolationKeeper({
    client: opts.client,
    resolver: opts.resolver,
    events: opts.events,
    logger,
    isLeader: opts.isLeader,
    tampered: metrics.tampered,
    resyncMs: parseDuration(RUN_DEFAULTS.isolationResync),
  });

  // The leader's cycle: finish what a previous leader left half-done, then drain the outbox.
  const resume = new LeaderResume({ logger, resume: resumeFromCluster(qdeps) });
  const drainOutbox = createOutboxDrain({
    deps: { ...qdeps, quietRead },
    repo: recordsRepoFor({ target: opts.records, env: opts.env, logger }),
    releaseIntervalMs: opts.releaseIntervalMs ?? parseDuration(RUN_DEFAULTS.releaseInterval),
    metrics: auditMetrics,
    release: (d) => keeper.exclusive(() => releaseFromGit(d)),
  });
  const drain = new DrainScheduler({
    cycle: async () => {
      if (await resume.step(opts.isLeader())) await drainOutbox();
    },
    intervalMs: opts.flushIntervalMs ?? parseDuration(RUN_DEFAULTS.flushInterval),
    onError: (err, failures) => {
      auditMetrics.flushes.inc({ result: 'error' });
      logger.warn({ err: errorMessage(err), failures }, 'audit cycle failed; records stay Pending and are retried');
    },
  });
  drain.start();

  const receiverRouter = createReceiverRouter({
    authenticator: opts.authenticator,
    intake: {
      client: opts.client,
      submit: (pod, signals, policy) => evaluator.submit(pod, signals, policy),
      policy: opts.policy,
      namespaceLabels: judging.namespaceLabels,
      excludedNamespaces: judging.excludedNamespaces,
      logger,
    },
    registry: opts.registry,
    ...(opts.leader ? { leader: opts.leader } : {}),
  });
  const verdictRouter = createVerdictRouter({
    authenticator: opts.authenticator,
    client: opts.client,
    submit: (pod, signals, policy) => evaluator.submit(pod, signals, policy),
    policy: opts.policy,
    namespaceLabels: judging.namespaceLabels,
    excludedNamespaces: judging.excludedNamespaces,
    logger,
    requests: metrics.apiRequests,
    ...(opts.leader ? { leader: opts.leader } : {}),
  });

  return {
    notify: (uid) => evaluator.notify(uid),
    verdictRouter,
    receiverRouter,
    evaluator,
    flush: () => drain.runNow(),
    async stop() {
      // No cycle starts once stop() is called; the evaluator stops before the one in flight is awaited.
      const drained = drain.stop();
      evaluator.stop();
      await drained;
      await keeper.stop();
    },
  };
}
