export type { PodHealth, ProbeSample, LifecycleEvent, ProcessSample, Signal, SignalType } from './types.js';
export { detectSignals } from './detectors/index.js';
export {
  stepHysteresis,
  HYSTERESIS_DEFAULTS,
  type HysteresisState,
  type HysteresisOptions,
  type Transition,
} from './hysteresis.js';
export { groupIncidents, GROUPING_DEFAULTS, type Incident, type IncidentScope } from './grouping.js';
export { decide, SEVERITY, type ActionType, type PlannedAction, type Verdict } from './decide.js';
export { Evaluator, type EvaluatorOptions } from './evaluator.js';
export { toAnalytics, podFactsOf, type PodFacts, type PodObject } from './from-observe.js';
