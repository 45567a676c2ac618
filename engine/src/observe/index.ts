// The observe stage: authenticated report ingest, per-pod health windows, the pod watch and
// forwarding to external analytics endpoints. The engine starts it with `createObserve`.
export { createObserve, type Observe } from './create-observe.js';
export { TokenAuthenticator, type Identity } from './authenticator.js';
export { ReadAuthorizer } from './read-authorizer.js';
export { type ForwardTarget } from './forwarder.js';
export { HealthStore, type PodHealthWindow } from './health-store.js';
export { injectedBySidecar } from './pod-watch.js';
export { REPORTS_PATH } from './routes.js';
export { PolicyForwarding } from './policy-forward.js';
export type { PodEvent, PodRef } from './report.js';
