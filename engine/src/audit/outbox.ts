import { API_VERSION, KIND, type Quarantine } from '../core/api/index.js';
import { parseDuration } from '../core/duration.js';
import type { KubeClient } from '../core/kube/client.js';
import type { EventRecorder } from '../core/kube/events.js';
import type { ResourceResolver } from '../core/kube/resources.js';
import type { Logger } from '../core/logger.js';
import { listQuarantines, patchQuarantineStatus, releaseQuarantine } from '../quarantine/index.js';
import { commitMessage, releaseMessage } from './commit-message.js';
import { recordDocument, recordMode, recordUid } from './record-document.js';
import { markPushRefused, pushConditionChanges, RECORDS_PUSHED, withPushCondition } from './push-conditions.js';
import { PATH_UNSAFE_CODE, PUSH_REFUSED_CODE, type RecordsRepo } from './records-repo.js';
import { findCondition } from '../core/api/index.js';
import { isBulkheadError } from '../core/errors.js';

export interface OutboxDeps {
  client: KubeClient;
  resolver: ResourceResolver;
  events: EventRecorder;
  repo: RecordsRepo;
  logger: Logger;
  cluster: string;
  now: () => Date;
  /**
   * Runs a read of the Quarantines while no verdict is being carried out (the pipeline's gate),
   * so a failing pod's record is read only once its whole decision is in it. Default: at once.
   */
  quietRead?: <T>(read: () => Promise<T>) => Promise<T>;
}

export interface FlushResult {
  /** Records written by this flush's commit. */
  committed: number;
  /** Records found already in git (pushed before a crash): marked Committed, not written again. */
  recovered: number;
  commit?: string;
  /** Still waiting (beyond this batch, or not ready). */
  waiting: number;
}

/** A record is ready to write once enforcement finished (or it only says "would"). */
const ready = (q: Quarantine): boolean =>
  Boolean(q.spec.recordPath) &&
  q.status?.audit?.state !== 'Committed' &&
  (q.spec.mode === 'DryRun' || q.status?.phase === 'Isolated' || q.status?.phase === 'Released');

/** A similar pod's Quarantine whose decision is recorded in its failing pod's record. */
export const ridesOnRecord = (q: Quarantine): boolean =>
  q.spec.reason === 'Similar' &&
  q.spec.recordPath !== `records/${q.spec.cluster}/${q.metadata.namespace}/${q.metadata.name}.yaml`;

/**
 * The audit outbox, drained: the Quarantine CRs themselves are the durable queue (they survive
 * an engine crash). A flush takes up to `maxBatch` ready records, oldest first, and writes
 * them as ONE commit. Exactly once: a record whose file already sits in git naming the same
 * Quarantine uid (pushed just before a crash) is marked Committed with that commit, not
 * written again; a commit that never reached the remote is discarded by the next sync and
 * its records, still Pending, are written again.
 */
export async function flushOutbox(deps: OutboxDeps, maxBatch = 100): Promise<FlushResult> {
  // Only this engine's records: each cluster writes under its own records/<cluster>/.
  const quiet = deps.quietRead ?? ((read) => read());
  const all = (await quiet(() => listQuarantines(deps.client, deps.resolver)))
    .filter((q) => ready(q) && q.spec.cluster === deps.cluster)
    .sort((a, b) => a.spec.time.localeCompare(b.spec.time));
  // A similar pod's Quarantine rides on its failing pod's record: never written itself, it is
  // Committed with the commit that holds that record.
  const riders = all.filter(ridesOnRecord);
  const records = all.filter((q) => !ridesOnRecord(q));
  if (records.length === 0 && riders.length === 0) return { committed: 0, recovered: 0, waiting: 0 };
  await deps.repo.sync();
  // One listing instead of a read per record: only paths already in git (a push just before a
  // crash) need their content checked.
  const present = new Set(await deps.repo.list(`records/${deps.cluster}`));
  // A record whose path the repository has turned into a symlink (or that leaves its
  // namespace's folder) is not written; it says why and waits, the others go out (ADR 1402).
  // Checked over every waiting record, before the batch is cut: records that cannot be written
  // never fill a batch (nor count as waiting, which would spin the drain).
  const unsafe = await unsafeRecords(deps, records);
  const batch = records.filter((r) => !unsafe.has(r)).slice(0, maxBatch);
  const toWrite: Quarantine[] = [];
  let recovered = 0;
  for (const q of batch) {
    const existing = present.has(q.spec.recordPath!) ? await deps.repo.read(q.spec.recordPath!) : undefined;
    // The same Quarantine and the same mode: a DryRun record of a Quarantine since upgraded to
    // Enforce (ADR 1401) is written again, so git says what was done.
    if (existing !== undefined && recordUid(existing) === q.metadata.uid && recordMode(existing) === q.spec.mode) {
      const sha = await deps.repo.lastCommitOf(q.spec.recordPath!);
      await markCommitted(deps, q, sha ?? 'unknown');
      recovered++;
    } else {
      toWrite.push(q);
    }
  }
  for (const q of riders) {
    if (!present.has(q.spec.recordPath!) || toWrite.some((w) => w.spec.recordPath === q.spec.recordPath)) continue;
    await markCommitted(deps, q, (await deps.repo.lastCommitOf(q.spec.recordPath!)) ?? 'unknown');
    recovered++;
  }
  let commit: string | undefined;
  if (toWrite.length > 0) {
    let sha: string;
    try {
      sha = await deps.repo.commitAndPush(
        toWrite.map((q) => ({ path: q.spec.recordPath!, content: recordDocument(q) })),
        commitMessage(toWrite, deps.cluster),
      );
    } catch (err) {
      // Refused on purpose (a protected branch): each waiting Quarantine says why and what to
      // do; they stay Pending (the outbox keeps them) and go out once the branch is changed.
      if (isBulkheadError(err) && err.code === PUSH_REFUSED_CODE)
        await markPushRefused(deps, all, { pushed: false, reason: err.reason, message: err.message });
      throw err;
    }
    commit = sha;
    // Status updates in parallel (bounded): they are independent, and the push is already done.
    const written = [...toWrite, ...riders.filter((r) => toWrite.some((w) => w.spec.recordPath === r.spec.recordPath))];
    for (let i = 0; i < written.length; i += 16)
      await Promise.all(written.slice(i, i + 16).map((q) => markCommitted(deps, q, sha)));
  }
  return {
    committed: toWrite.length,
    recovered,
    ...(commit ? { commit } : {}),
    waiting: records.length - unsafe.size - batch.length,
  };
}

/**
 * Records of this batch that must not be written, each marked (condition RecordsPushed=False,
 * reason RecordPathUnsafe, and a Warning Event on the Quarantine when that is new): a path
 * outside records/<cluster>/<namespace>/, or one a symlink in the repository leads elsewhere.
 */
async function unsafeRecords(deps: OutboxDeps, batch: readonly Quarantine[]): Promise<Set<Quarantine>> {
  const why = await deps.repo.unsafePaths(batch.map((q) => q.spec.recordPath!));
  const out = new Set<Quarantine>();
  for (const q of batch) {
    const path = q.spec.recordPath!;
    const folder = `records/${deps.cluster}/${q.metadata.namespace}/`;
    const reason =
      !path.startsWith(folder) || path.slice(folder.length).includes('/') || !path.endsWith('.yaml')
        ? `it is not a file directly under ${folder}`
        : why.get(path);
    if (!reason) continue;
    out.add(q);
    await markUnsafe(
      deps,
      q,
      `record ${path} is not written: ${reason} (writes never follow links); replace it with a plain directory or file in git`,
    );
  }
  return out;
}

async function markUnsafe(deps: OutboxDeps, q: Quarantine, message: string): Promise<void> {
  const state = { pushed: false as const, reason: 'RecordPathUnsafe', message };
  deps.logger.warn(
    { quarantine: `${q.metadata.namespace}/${q.metadata.name}`, problem: message },
    'record not written',
  );
  if (!pushConditionChanges(q.status?.conditions, state)) return;
  await markPushRefused(deps, [q], state);
  await deps.events.emit(
    {
      apiVersion: API_VERSION,
      kind: KIND.Quarantine,
      name: q.metadata.name!,
      namespace: q.metadata.namespace!,
      ...(q.metadata.uid ? { uid: q.metadata.uid } : {}),
    },
    'Warning',
    'RecordPathUnsafe',
    message.slice(0, 1024),
  );
}

async function markCommitted(deps: OutboxDeps, q: Quarantine, sha: string): Promise<void> {
  // A record that waited on a refused push says it is through now.
  const shown = findCondition(q.status?.conditions, RECORDS_PUSHED)
    ? withPushCondition(q, { pushed: true, message: `pushed as ${sha.slice(0, 12)}` }, deps.now())
    : q;
  await patchQuarantineStatus(
    deps,
    shown,
    { audit: { state: 'Committed', commit: sha, path: q.spec.recordPath! } },
    'Recorded',
    `audit record committed as ${sha.slice(0, 12)}`,
  );
}

/**
 * Releases, from git's point of view (run after a sync): an enforced quarantine whose record
 * was committed but is no longer in the repository was released by a human (deleted or
 * reverted in a reviewed change); one past its `releaseAfter` is released by committing the
 * record's removal first, so a crash in between is finished by the first rule.
 */
export async function releaseFromGit(deps: OutboxDeps): Promise<{ released: string[] }> {
  const held = (await listQuarantines(deps.client, deps.resolver)).filter(
    (q) =>
      q.spec.mode === 'Enforce' &&
      q.status?.phase === 'Isolated' &&
      q.status.audit?.state === 'Committed' &&
      q.spec.cluster === deps.cluster,
  );
  if (held.length === 0) return { released: [] };
  await deps.repo.sync();
  const released: string[] = [];
  const elsewhere: string[] = [];
  /**
   * A record missing from this branch was removed only if it was ever on it: one committed to
   * another branch (before recordsBranch changed) is not a release, it is elsewhere.
   */
  const removedHere = async (q: Quarantine): Promise<boolean> => {
    if (await deps.repo.contains(q.status?.audit?.commit ?? '')) return true;
    elsewhere.push(`${q.metadata.namespace}/${q.metadata.name}`);
    return false;
  };
  // Riders last: a record removed for its releaseAfter in this pass releases them too.
  for (const q of [...held.filter((h) => !ridesOnRecord(h)), ...held.filter(ridesOnRecord)]) {
    const id = `${q.metadata.namespace}/${q.metadata.name}`;
    const content = await deps.repo.read(q.spec.recordPath!);
    if (ridesOnRecord(q)) {
      // It follows its failing pod's record: released when that record is gone, not before.
      if (content === undefined && (await removedHere(q))) {
        await releaseQuarantine(deps, q, 'audit record of its failing pod removed from git');
        released.push(id);
      }
      continue;
    }
    if (content === undefined && !(await removedHere(q))) continue;
    if (content === undefined || recordUid(content) !== q.metadata.uid) {
      await releaseQuarantine(deps, q, 'audit record removed from git');
      released.push(id);
      continue;
    }
    if (q.spec.releaseAfter && deps.now().getTime() >= Date.parse(q.spec.time) + parseDuration(q.spec.releaseAfter)) {
      try {
        await deps.repo.commitAndPush(
          [{ path: q.spec.recordPath!, content: null }],
          releaseMessage(q, `releaseAfter ${q.spec.releaseAfter} elapsed`),
        );
      } catch (err) {
        // A symlink on the record's path: this one waits and says why; the others go on.
        if (!isBulkheadError(err) || err.code !== PATH_UNSAFE_CODE) throw err;
        await markUnsafe(deps, q, err.message);
        continue;
      }
      await releaseQuarantine(deps, q, `releaseAfter ${q.spec.releaseAfter} elapsed`);
      released.push(id);
    }
  }
  if (elsewhere.length > 0)
    deps.logger.warn(
      { count: elsewhere.length, first: elsewhere.slice(0, 5) },
      'records committed to another branch than the records branch now: not released from git (bring the records over, or release by hand)',
    );
  return { released };
}
