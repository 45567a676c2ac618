// Plan stage: desired objects from policies, the inventory, the diff against the cluster.
export { desiredObjects, type SourceRef } from './desired.js';
export { computePlan, hasChanges, type Plan, type PlanItem } from './plan.js';
export { dryRunPlan } from './dry-run.js';
export { listLive } from './live.js';
export { formatPlanHuman, formatPlanJson, formatPlanMarkdown } from './format.js';
export { SOURCE_LABEL } from './inventory.js';
