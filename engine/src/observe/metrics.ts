import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The observe stage's metrics, registered on the Registry the process passes in (never the global one). */
export interface ObserveMetrics {
  requests: Counter<'route' | 'code'>;
  authFailures: Counter<'reason'>;
  forbidden: Counter<'reason'>;
  samples: Counter<'result'>;
  ingestSeconds: Histogram<'code'>;
  tokenReviews: Counter<'result'>;
  authCache: Counter<'result'>;
  pods: Gauge;
  evictions: Gauge;
  sidecarDropped: Counter;
  gaps: Counter;
  forwardQueue: Gauge<'endpoint'>;
  forwardSent: Counter<'endpoint'>;
  forwardFailures: Counter<'endpoint'>;
  forwardDropped: Counter<'endpoint'>;
  podWatch: Counter<'event'>;
  podEvents: Counter<'type'>;
}

export function createObserveMetrics(registry: Registry): ObserveMetrics {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'bulkhead_observe_requests_total',
      help: 'Observe API requests by route and HTTP status',
      labelNames: ['route', 'code'],
      registers,
    }),
    authFailures: new Counter({
      name: 'bulkhead_observe_auth_failures_total',
      help: 'Requests refused with 401, by reason (missing, malformed, expired, wrong_audience, rejected, review_error)',
      labelNames: ['reason'],
      registers,
    }),
    forbidden: new Counter({
      name: 'bulkhead_observe_forbidden_total',
      help: 'Requests refused with 403, by reason (not_pod_bound, pod_mismatch, rbac)',
      labelNames: ['reason'],
      registers,
    }),
    samples: new Counter({
      name: 'bulkhead_observe_samples_total',
      help: 'Probe samples received, by result (stored, duplicate)',
      labelNames: ['result'],
      registers,
    }),
    ingestSeconds: new Histogram({
      name: 'bulkhead_observe_ingest_duration_seconds',
      help: 'Time to handle POST /api/v1/reports',
      labelNames: ['code'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    tokenReviews: new Counter({
      name: 'bulkhead_observe_token_reviews_total',
      help: 'TokenReviews sent to the apiserver, by result',
      labelNames: ['result'],
      registers,
    }),
    authCache: new Counter({
      name: 'bulkhead_observe_auth_cache_total',
      help: 'Authentications answered from the TokenReview cache (hit) or by a review (miss)',
      labelNames: ['result'],
      registers,
    }),
    pods: new Gauge({ name: 'bulkhead_observe_pods', help: 'Pods with a health window in memory', registers }),
    evictions: new Gauge({
      name: 'bulkhead_observe_window_evictions',
      help: 'Pod windows evicted because the pod limit was reached (since start)',
      registers,
    }),
    sidecarDropped: new Counter({
      name: 'bulkhead_observe_sidecar_dropped_samples_total',
      help: 'Samples sidecars reported dropping from their full buffers',
      registers,
    }),
    gaps: new Counter({
      name: 'bulkhead_observe_sample_gaps_total',
      help: 'Samples missing between received sequence numbers',
      registers,
    }),
    forwardQueue: new Gauge({
      name: 'bulkhead_observe_forward_queue_depth',
      help: 'Reports waiting to be forwarded, per endpoint',
      labelNames: ['endpoint'],
      registers,
    }),
    forwardSent: new Counter({
      name: 'bulkhead_observe_forward_sent_total',
      help: 'Reports forwarded and acknowledged, per endpoint',
      labelNames: ['endpoint'],
      registers,
    }),
    forwardFailures: new Counter({
      name: 'bulkhead_observe_forward_failures_total',
      help: 'Failed forward requests (timeout, network, non-2xx), per endpoint',
      labelNames: ['endpoint'],
      registers,
    }),
    forwardDropped: new Counter({
      name: 'bulkhead_observe_forward_dropped_total',
      help: 'Reports dropped from a full forward queue (oldest first), per endpoint',
      labelNames: ['endpoint'],
      registers,
    }),
    podWatch: new Counter({
      name: 'bulkhead_observe_pod_watch_total',
      help: 'Pod watch lifecycle: connect, error, restart, event',
      labelNames: ['event'],
      registers,
    }),
    podEvents: new Counter({
      name: 'bulkhead_observe_pod_events_total',
      help: 'Pod lifecycle events fed into health windows, by type',
      labelNames: ['type'],
      registers,
    }),
  };
}
