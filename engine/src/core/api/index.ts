// The Bulkhead API: names every stage uses, and the types generated from schemas/ (the
// single source of truth; `npm run gen` regenerates them).
export type { HealthPolicy } from './generated/healthpolicy.js';
export type { Quarantine } from './generated/quarantine.js';
export type { PolicySource } from './generated/policysource.js';
export type { RepoSettings } from './generated/repo-settings.js';
export type { LabelSelector, DetectRule, Budget, ForwardTarget, Condition } from './generated/healthpolicy.js';
export {
  GROUP,
  VERSION,
  API_VERSION,
  KIND,
  PLURAL,
  LABEL,
  ANNOTATION,
  MANAGED_BY,
  DEFAULT_ENGINE_NAMESPACE,
} from './names.js';
export { setCondition, findCondition } from './conditions.js';
