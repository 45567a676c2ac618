// Analytics stage: detectors over the observe stage's health windows, grouping, decide → Verdict.
export type { PodHealth, Signal } from './types.js';
export { SEVERITY, type ActionType, type PlannedAction, type Verdict } from './decide.js';
export { Evaluator } from './evaluator.js';
export { injectedPolicyOf, podFactsOf, type PodFacts, type PodObject } from './from-observe.js';
