import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Router } from '@koa/router';
import { Counter, Histogram, type Registry } from 'prom-client';
import { Evaluator, podFactsOf, type PodFacts, type PodObject, type Verdict } from '../analytics/index.js';
import { flushOutbox, releaseFromGit, RecordsRepo } from '../audit/index.js';
import { LABEL, type HealthPolicy } from '../core/api/index.js';
import { backoffDelay } from '../core/backoff.js';
import { isNotFound, type KubeClient } from '../core/kube/client.js';
import type { EventRecorder } from '../core/kube/events.js';
import type { ResourceResolver } from '../core/kube/resources.js';
import type { Logger } from '../core/logger.js';
import type { HealthStore, TokenAuthenticator } from '../observe/index.js';
import type { GitCredentials } from '../source/index.js';
import {
  createVerdictRouter,
  executeVerdict,
  listQuarantines,
  resumePending,
  type QuarantineDeps,
} from '../quarantine/index.js';

export interface QuarantinePipelineOptions {
  client: KubeClient;
  resolver: ResourceResolver;
  events: EventRecorder;
  logger: Logger;
  registry: Registry;
  store: HealthStore;
  authenticator: TokenAuthenticator;
  /** The current HealthPolicies by name (the engine's watch). */
  policy(name: string): HealthPolicy | undefined;
  isLeader(): boolean;
  cluster: string;
  engineNamespace: string;
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

export interface RecordsTarget {
  url: string;
  branch: string;
  credentials?: GitCredentials;
  cacheDir: string;
  signingKey?: string;
}

export interface QuarantinePipeline {
  /** Call when a pod's window changed (a report or a pod event arrived). */
  notify(uid: string): void;
  verdictRouter: Router;
  evaluator: Evaluator;
  /** Runs one audit flush now (tests, shutdown). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

interface CachedFacts {
  facts: PodFacts | undefined;
  at: number;
}

/**
 * analytics → quarantine → audit, wired: reports make pods dirty; verdicts are carried out at
 * once (only by the leader: a follower keeps evaluating so it is warm when it takes over, but
 * never writes); the audit outbox is drained on a short timer and right after each verdict;
 * releases are read from git on a slower timer. On becoming leader, quarantines a previous
 * leader left half-done are finished first.
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
  };
  const verdicts = new Counter({
    name: 'bulkhead_verdicts_total',
    help: 'Verdicts carried out, by action and outcome',
    labelNames: ['action', 'outcome'],
    registers: [opts.registry],
  });
  const verdictSeconds = new Histogram({
    name: 'bulkhead_verdict_duration_seconds',
    help: 'Time to carry out one verdict (budget, cluster writes)',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [opts.registry],
  });
  const flushes = new Counter({
    name: 'bulkhead_audit_flushes_total',
    help: 'Audit outbox flushes, by result',
    labelNames: ['result'],
    registers: [opts.registry],
  });
  const apiRequests = new Counter({
    name: 'bulkhead_verdict_api_requests_total',
    help: 'External verdict API requests, by outcome',
    labelNames: ['outcome'],
    registers: [opts.registry],
  });

  // Pod facts (labels, node, owner, image): read once per pod, bounded, refreshed after a minute.
  const factsCache = new Map<string, CachedFacts>();
  const FACTS_MAX = 20_000;
  const facts = async (pod: { namespace: string; name: string; uid: string }): Promise<PodFacts | undefined> => {
    const hit = factsCache.get(pod.uid);
    if (hit && now().getTime() - hit.at < 60_000) return hit.facts;
    const obj = await opts.client
      .request<PodObject>({
        method: 'GET',
        path: `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}`,
      })
      .catch((e: unknown) => {
        if (isNotFound(e)) return undefined;
        throw e;
      });
    const value = obj && obj.metadata.uid === pod.uid ? podFactsOf(obj) : undefined;
    factsCache.delete(pod.uid);
    factsCache.set(pod.uid, { facts: value, at: now().getTime() });
    if (factsCache.size > FACTS_MAX) factsCache.delete(factsCache.keys().next().value as string);
    return value;
  };

  const onVerdict = async (verdict: Verdict, policy: HealthPolicy): Promise<void> => {
    if (!opts.isLeader()) {
      logger.info({ incident: verdict.incident.key }, 'not the leader: verdict left to the leader');
      return;
    }
    const end = verdictSeconds.startTimer();
    const result = await executeVerdict(qdeps, verdict, policy.spec.action.releaseAfter);
    end();
    for (const t of result.taken) verdicts.inc({ action: t.action, outcome: t.outcome });
    logger.info(
      {
        policy: result.policy,
        incident: verdict.incident.key,
        taken: result.taken.map((t) => `${t.namespace}/${t.pod}:${t.action}:${t.outcome}`),
      },
      'verdict carried out',
    );
    // Push the record right away instead of at the next tick (schedule is defined below; it
    // runs long after construction).
    schedule(50);
  };

  const evaluator = new Evaluator({
    health: (uid) => opts.store.get(uid),
    peers: (namespace, policy) => opts.store.query({ namespace }).filter((h) => h.policy === policy),
    facts,
    // A pod already quarantined is not judged again; its fate is in git now.
    policyFor: (h, f) => (f.labels[LABEL.quarantined] === 'true' || !h.policy ? undefined : opts.policy(h.policy)),
    onVerdict,
    logger,
    ...(opts.groupWindowMs !== undefined ? { groupWindowMs: opts.groupWindowMs } : {}),
  });

  // One RecordsRepo per target (url + branch); a changed target gets a fresh clone folder.
  let repo: RecordsRepo | undefined;
  let repoKey = '';
  const recordsRepo = async (): Promise<RecordsRepo | undefined> => {
    const target = typeof opts.records === 'function' ? await opts.records() : opts.records;
    if (!target) return undefined;
    const key = `${target.url}#${target.branch}`;
    if (repo && key === repoKey) return repo;
    repoKey = key;
    repo = new RecordsRepo({
      url: target.url,
      branch: target.branch,
      cacheDir: join(target.cacheDir, 'records', createHash('sha256').update(key).digest('hex').slice(0, 16)),
      ...(target.credentials ? { credentials: target.credentials } : {}),
      ...(target.signingKey ? { signingKey: target.signingKey } : {}),
      env: opts.env,
      author: { name: 'bulkhead', email: 'bulkhead@noreply.invalid' },
      logger,
    });
    return repo;
  };

  let stopped = false;
  let wasLeader = false;
  let failures = 0;
  let running: Promise<void> | undefined;
  let lastRelease = 0;
  const cycle = async (): Promise<void> => {
    if (!opts.isLeader()) {
      wasLeader = false;
      return;
    }
    if (!wasLeader) {
      const n = await resumePending(qdeps, await listQuarantines(opts.client, opts.resolver));
      if (n > 0) logger.info({ resumed: n }, 'finished quarantines a previous leader left half-done');
      wasLeader = true;
    }
    const repo = await recordsRepo();
    if (!repo) return;
    for (;;) {
      const r = await flushOutbox({ ...qdeps, repo, cluster: opts.cluster });
      if (r.committed + r.recovered > 0) {
        flushes.inc({ result: 'committed' });
        logger.info({ committed: r.committed, recovered: r.recovered, commit: r.commit }, 'audit records pushed');
      }
      if (r.waiting === 0) break;
    }
    if (now().getTime() - lastRelease >= (opts.releaseIntervalMs ?? 10_000)) {
      lastRelease = now().getTime();
      const { released } = await releaseFromGit({ ...qdeps, repo, cluster: opts.cluster });
      if (released.length > 0) logger.info({ released }, 'pods released from git');
    }
  };
  const runCycle = (): Promise<void> =>
    (running ??= cycle()
      .then(() => {
        failures = 0;
      })
      .catch((err: unknown) => {
        failures++;
        flushes.inc({ result: 'error' });
        logger.warn(
          { err: err instanceof Error ? err.message : String(err), failures },
          'audit cycle failed; records stay Pending and are retried',
        );
      })
      .finally(() => {
        running = undefined;
      }));
  let timer: NodeJS.Timeout | undefined;
  const schedule = (ms: number): void => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      void runCycle().then(() =>
        schedule(
          failures > 0 ? backoffDelay(failures, { baseMs: 500, capMs: 30_000 }) + 500 : (opts.flushIntervalMs ?? 1000),
        ),
      );
    }, ms);
  };
  schedule(0);

  const verdictRouter = createVerdictRouter({
    authenticator: opts.authenticator,
    client: opts.client,
    submit: (pod, signals, policy) => evaluator.submit(pod, signals, policy),
    policy: opts.policy,
    logger,
    requests: apiRequests,
  });

  return {
    notify: (uid) => evaluator.notify(uid),
    verdictRouter,
    evaluator,
    flush: () => runCycle(),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      evaluator.stop();
      await running;
    },
  };
}
