// The export stage: the health store as Prometheus series with a stated cardinality bound, on
// the HTTPS port for an authenticated scrape (ADR 1811). spec.forward (observe) is unchanged.
export { createHealthMetricsRouter, HEALTH_METRICS_PATH, type HealthMetricsDeps } from './health-metrics-router.js';
export { EXPORT_DEFAULTS, SERIES_PER_POD, healthExposition } from './health-series.js';
