// The receivers stage: Alertmanager's webhook notifications and Falcosidekick's webhook events
// mapped to verdicts on pods, through the quarantine stage's one verdict intake (ADR 1810).
export { ALERTMANAGER_PATH, FALCOSIDEKICK_PATH, createReceiverRouter, type ReceiverDeps } from './receiver-router.js';
