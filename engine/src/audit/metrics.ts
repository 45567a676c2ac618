import { Counter, type Registry } from 'prom-client';

export interface AuditMetrics {
  /** Outbox drain cycles that pushed records, and those that failed. */
  flushes: Counter<'result'>;
}

/** The audit stage's metrics, registered once per engine on its registry. */
export function createAuditMetrics(registry: Registry): AuditMetrics {
  return {
    flushes: new Counter({
      name: 'bulkhead_audit_flushes_total',
      help: 'Audit outbox flushes, by result',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}
