import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface SyncMetrics {
  reconcileDuration: Histogram<'source' | 'result'>;
  objectsApplied: Counter<'source' | 'action'>;
  triggers: Counter<'source' | 'trigger'>;
  coalesced: Counter<'source'>;
  policies: Gauge<'source'>;
  lastAppliedTimestamp: Gauge<'source'>;
}

export function createSyncMetrics(registry: Registry): SyncMetrics {
  return {
    reconcileDuration: new Histogram({
      name: 'bulkhead_source_reconcile_duration_seconds',
      help: 'PolicySource reconciles by result (Applied, NoChange, ValidationFailed, …)',
      labelNames: ['source', 'result'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    objectsApplied: new Counter({
      name: 'bulkhead_source_objects_total',
      help: 'objects created, updated, pruned, drift-corrected or in conflict',
      labelNames: ['source', 'action'],
      registers: [registry],
    }),
    triggers: new Counter({
      name: 'bulkhead_source_triggers_total',
      help: 'sync triggers by kind (poll, webhook, watch, dir)',
      labelNames: ['source', 'trigger'],
      registers: [registry],
    }),
    coalesced: new Counter({
      name: 'bulkhead_source_triggers_coalesced_total',
      help: 'triggers folded into a fetch already queued',
      labelNames: ['source'],
      registers: [registry],
    }),
    policies: new Gauge({
      name: 'bulkhead_source_policies',
      help: 'policies applied from the last good revision',
      labelNames: ['source'],
      registers: [registry],
    }),
    lastAppliedTimestamp: new Gauge({
      name: 'bulkhead_source_last_applied_timestamp_seconds',
      help: 'when a revision was last applied',
      labelNames: ['source'],
      registers: [registry],
    }),
  };
}
