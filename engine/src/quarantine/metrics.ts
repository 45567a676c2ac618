import { Counter, Histogram, type Registry } from 'prom-client';

export interface QuarantineMetrics {
  /** Verdicts carried out, by action and outcome. */
  verdicts: Counter<'action' | 'outcome'>;
  /** Time to carry out one verdict (budget, cluster writes). */
  verdictSeconds: Histogram;
  /** External verdict API requests, by outcome (the verdict router counts them). */
  apiRequests: Counter<'outcome'>;
  /** Isolation undone by someone else and put back, by what (label, detach, annotation, networkPolicy). */
  tampered: Counter<'what'>;
}

/** The quarantine stage's metrics, registered once per engine on its registry. */
export function createQuarantineMetrics(registry: Registry): QuarantineMetrics {
  return {
    verdicts: new Counter({
      name: 'bulkhead_verdicts_total',
      help: 'Verdicts carried out, by action and outcome',
      labelNames: ['action', 'outcome'],
      registers: [registry],
    }),
    verdictSeconds: new Histogram({
      name: 'bulkhead_verdict_duration_seconds',
      help: 'Time to carry out one verdict (budget, cluster writes)',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    apiRequests: new Counter({
      name: 'bulkhead_verdict_api_requests_total',
      help: 'External verdict API requests, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    tampered: new Counter({
      name: 'bulkhead_quarantine_tamper_total',
      help: 'Isolation of a held pod undone by someone else and restored, by what was undone',
      labelNames: ['what'],
      registers: [registry],
    }),
  };
}
