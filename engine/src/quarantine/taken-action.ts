import type { PlannedAction } from '../analytics/index.js';

export type ActionOutcome = 'done' | 'already' | 'dry-run' | 'blocked' | 'gone' | 'failed';

/** What the executor did for one planned action (its own file: the steps after it read it too). */
export interface TakenAction {
  pod: string;
  namespace: string;
  action: PlannedAction['action'];
  role: PlannedAction['role'];
  outcome: ActionOutcome;
  quarantine?: string;
  detail?: string;
}
