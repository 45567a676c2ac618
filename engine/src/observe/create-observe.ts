// `createObserve` wires the observe stage's parts for a process: the token authenticator
// (TokenReview), the read authorizer (SubjectAccessReview), the health store, the report
// router, the forwarder and the pod watch.
import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { SIDECAR_TOKEN_AUDIENCE } from '../admission/index.js';
import type { Logger } from '../core/logger.js';
import { TokenAuthenticator, type ReviewToken } from './authenticator.js';
import { Forwarder, type ForwardTarget } from './forwarder.js';
import { HealthStore, type HealthStoreOptions } from './health-store.js';
import { IdentityRejections } from './identity-rejections.js';
import { createObserveMetrics, type ObserveMetrics } from './metrics.js';
import { watchPods, type PodWatch } from './pod-watch.js';
import { RateLimiter } from './rate-limiter.js';
import { ReadAuthorizer, type AccessReview } from './read-authorizer.js';
import type { HealthReport } from './report.js';
import { createReportValidator } from './report-validator.js';
import { createObserveRouter } from './routes.js';
import type { Router } from '@koa/router';
import type { LeaderView } from '../core/http/leader-gate.js';

export interface ObserveOptions {
  kubeConfig: KubeConfig;
  registry: Registry;
  logger: Logger;
  store?: HealthStoreOptions;
  auth?: { ttlMs?: number; negativeTtlMs?: number; maxEntries?: number };
  rate?: { perSecond: number; burst: number };
  bodyLimitBytes?: number;
  /** Reports go to the leader only (ADR 1500); absent: always served. */
  leader?: LeaderView;
  forward?: {
    targets: (report: HealthReport) => readonly ForwardTarget[];
    queueCapacity?: number;
    requestTimeoutMs?: number;
    ca?: string;
    backoff?: { baseMs: number; capMs: number };
  };
  /** Pod watch scope; no watch when undefined. */
  podWatch?: { namespace?: string; labelSelector?: string; matches?: (pod: V1Pod) => boolean };
}

export interface Observe {
  router: Router;
  store: HealthStore;
  /** Reports an authenticated pod sent about another pod, counted against the sender (ADR 1800). */
  identityRejections: IdentityRejections;
  metrics: ObserveMetrics;
  authenticator: TokenAuthenticator;
  /** Who may read health data (get pods, by SubjectAccessReview): the read API and the export. */
  readAuthorizer: ReadAuthorizer;
  forwarder?: Forwarder;
  podWatch?: PodWatch;
  close(): Promise<void>;
}

/** TokenReview through the apiserver (client-node v1 call shape). */
export function tokenReviewer(kc: KubeConfig, metrics?: ObserveMetrics): ReviewToken {
  const api = kc.makeApiClient(AuthenticationV1Api);
  return async (token, audiences) => {
    try {
      const res = await api.createTokenReview({
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences } },
      });
      metrics?.tokenReviews.inc({ result: res.status?.authenticated ? 'authenticated' : 'unauthenticated' });
      return res.status ?? {};
    } catch (err) {
      metrics?.tokenReviews.inc({ result: 'error' });
      throw err;
    }
  };
}

/** SubjectAccessReview through the apiserver. */
export function accessReviewer(kc: KubeConfig): AccessReview {
  const api = kc.makeApiClient(AuthorizationV1Api);
  return async ({ user, groups, namespace, verb, resource }) => {
    const res = await api.createSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user, groups, resourceAttributes: { namespace, verb, resource } },
      },
    });
    return res.status?.allowed === true;
  };
}

export function createObserve(opts: ObserveOptions): Observe {
  const metrics = createObserveMetrics(opts.registry);
  const store = new HealthStore(opts.store);
  // A refusal wakes the analytics like a report does: IdentityRejected is judged at once.
  const identityRejections = new IdentityRejections({
    ...(opts.store?.onChange ? { onChange: opts.store.onChange } : {}),
  });
  const authenticator = new TokenAuthenticator({
    review: tokenReviewer(opts.kubeConfig, metrics),
    // The audience admission projects every sidecar token with.
    audience: SIDECAR_TOKEN_AUDIENCE,
    ...opts.auth,
  });
  const forwarder = opts.forward
    ? new Forwarder({
        logger: opts.logger,
        metrics,
        ...(opts.forward.queueCapacity ? { queueCapacity: opts.forward.queueCapacity } : {}),
        ...(opts.forward.requestTimeoutMs ? { requestTimeoutMs: opts.forward.requestTimeoutMs } : {}),
        ...(opts.forward.ca ? { ca: opts.forward.ca } : {}),
        ...(opts.forward.backoff ? { backoff: opts.forward.backoff } : {}),
      })
    : undefined;
  const readAuthorizer = new ReadAuthorizer(accessReviewer(opts.kubeConfig));
  const router = createObserveRouter({
    authenticator,
    readAuthorizer,
    store,
    identityRejections,
    validate: createReportValidator(),
    rateLimiter: new RateLimiter(opts.rate?.perSecond ?? 5, opts.rate?.burst ?? 20),
    metrics,
    logger: opts.logger,
    ...(forwarder && opts.forward ? { forwarder, forwardTargets: opts.forward.targets } : {}),
    ...(opts.bodyLimitBytes ? { bodyLimitBytes: opts.bodyLimitBytes } : {}),
    ...(opts.leader ? { leader: opts.leader } : {}),
  });
  const podWatch = opts.podWatch
    ? watchPods({ kubeConfig: opts.kubeConfig, store, logger: opts.logger, metrics, ...opts.podWatch })
    : undefined;
  return {
    router,
    store,
    identityRejections,
    metrics,
    authenticator,
    readAuthorizer,
    ...(forwarder ? { forwarder } : {}),
    ...(podWatch ? { podWatch } : {}),
    async close() {
      podWatch?.stop();
      await forwarder?.close();
    },
  };
}
