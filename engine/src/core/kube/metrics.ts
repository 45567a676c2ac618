import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Metrics of the apiserver edge: requests, watches, leader election and Events. They are
 * registered on the Registry passed in (never prom-client's global one), so two engines in
 * one test process, or a test and its engine, never share counters.
 */
export interface KubeMetrics {
  requestDuration: Histogram<'verb' | 'code'>;
  watchLifecycle: Counter<'resource' | 'event'>;
  isLeader: Gauge<'lease'>;
  leaderTransitions: Counter<'lease'>;
  eventsEmitted: Counter<'type' | 'reason'>;
}

export function createKubeMetrics(registry: Registry): KubeMetrics {
  return {
    requestDuration: new Histogram({
      name: 'bulkhead_kube_request_duration_seconds',
      help: 'apiserver requests by verb and HTTP code',
      labelNames: ['verb', 'code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    watchLifecycle: new Counter({
      name: 'bulkhead_kube_watch_events_total',
      help: 'watch lifecycle events (connect, event, error, restart, relist) by resource',
      labelNames: ['resource', 'event'],
      registers: [registry],
    }),
    isLeader: new Gauge({
      name: 'bulkhead_leader',
      help: '1 while this process holds the Lease',
      labelNames: ['lease'],
      registers: [registry],
    }),
    leaderTransitions: new Counter({
      name: 'bulkhead_leader_transitions_total',
      help: 'times this process gained or lost the Lease',
      labelNames: ['lease'],
      registers: [registry],
    }),
    eventsEmitted: new Counter({
      name: 'bulkhead_kube_events_emitted_total',
      help: 'Kubernetes Events written, by type and reason',
      labelNames: ['type', 'reason'],
      registers: [registry],
    }),
  };
}
