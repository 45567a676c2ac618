import type { ErrorKind } from '../core/errors.js';
import type { LoadedPolicy } from '../plan/index.js';
import type { Artifact } from '../source/index.js';
import type { ApplyResult } from './applier.js';

/** What the policy stage's loader reports (its contract: loadPolicyDir). */
export interface Diagnostic {
  severity: 'error' | 'warning';
  code: string;
  message: string;
  hint?: string;
  file: string;
  line: number;
  column: number;
}
export type PolicyLoader = (dir: string) => Promise<{ policies: LoadedPolicy[]; diagnostics: Diagnostic[] }>;

/** How a reconcile ended: the summarizer turns this, and only this, into status and Events. */
export type Outcome =
  | { result: 'Applied' | 'NoChange'; artifact: Artifact; policies: number; apply?: ApplyResult }
  | { result: 'ValidationFailed'; artifact: Artifact; diagnostics: Diagnostic[] }
  | { result: 'ApplyIncomplete'; artifact: Artifact; policies: number; apply: ApplyResult }
  | { result: 'Failed'; artifact?: Artifact; kind: ErrorKind; reason: string; message: string };
