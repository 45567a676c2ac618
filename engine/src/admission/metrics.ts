import { Counter, Histogram, type Registry } from 'prom-client';

export type Endpoint = 'mutate' | 'validate';
/** mutate: patched | unchanged | error (allowed anyway); validate: allowed | denied | error (denied); both: bad_request. */
export type AdmissionOutcome = 'patched' | 'unchanged' | 'allowed' | 'denied' | 'error' | 'bad_request';

export interface AdmissionMetrics {
  duration: Histogram<'endpoint' | 'outcome'>;
  mutateErrors: Counter;
}

/** Registered on the registry passed in (no global default registry). */
export function createAdmissionMetrics(registry: Registry): AdmissionMetrics {
  return {
    duration: new Histogram({
      name: 'bulkhead_admission_duration_seconds',
      help: 'Time to answer one AdmissionReview, by endpoint and outcome',
      labelNames: ['endpoint', 'outcome'],
      // The apiserver gives us 5 s; the interesting range is far below 10 ms.
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    mutateErrors: new Counter({
      name: 'bulkhead_admission_mutate_errors_total',
      help: 'Internal errors on /mutate; each let the pod through unchanged (fail open)',
      registers: [registry],
    }),
  };
}
