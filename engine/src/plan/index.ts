// Plan stage: desired objects from policies, the inventory, the diff against the cluster.
export { desiredObjects, type SourceRef } from './desired.js';
export { computePlan, hasChanges, type Plan, type PlanItem, type PlanAction } from './plan.js';
export { dryRunPlan, type DryRunPlan } from './dry-run.js';
export { isSubset, fieldChanges, comparable, type FieldChange } from './diff.js';
export { inventoryLabels, inventorySelector, isInInventory, objectKey, SOURCE_LABEL } from './inventory.js';
export { listLive, MANAGED_KINDS } from './live.js';
export { formatPlanHuman, formatPlanJson, formatPlanMarkdown } from './format.js';
