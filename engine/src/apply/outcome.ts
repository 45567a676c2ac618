import type { RepoSettings } from '../core/api/index.js';
import type { ErrorKind } from '../core/errors.js';
import type { Diagnostic, LoadedPolicy } from '../policy/index.js';
import type { Artifact } from '../source/index.js';
import type { ApplyResult } from './applier.js';

/** The policy stage's loader (its contract: loadPolicyDir). */
export type PolicyLoader = (
  dir: string,
) => Promise<{ policies: LoadedPolicy[]; diagnostics: Diagnostic[]; settings?: RepoSettings }>;

/** How a reconcile ended: the summarizer turns this, and only this, into status and Events. */
export type SyncOutcome =
  | { result: 'Applied' | 'NoChange'; artifact: Artifact; policies: number; apply?: ApplyResult }
  | { result: 'ValidationFailed'; artifact: Artifact; diagnostics: Diagnostic[] }
  | { result: 'ApplyIncomplete'; artifact: Artifact; policies: number; apply: ApplyResult }
  | { result: 'Failed'; artifact?: Artifact; kind: ErrorKind; reason: string; message: string };
