import { BulkheadError, isBulkheadError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { applyConflicts, deleteObject, FIELD_MANAGER, serverSideApply } from '../core/kube/apply.js';
import { KubeApiError, type KubeClient } from '../core/kube/client.js';
import { objectPath, type KubeObject, type ResourceResolver } from '../core/kube/resources.js';
import type { Plan, PlanItem } from '../plan/index.js';
import { fieldOwners } from './field-owners.js';

export interface ApplyResult {
  created: string[];
  updated: string[];
  pruned: string[];
  unchanged: number;
  /** Fields another declarative manager (Argo CD, Flux, …) owns: reported, not taken. */
  conflicts: { name: string; managers: string[]; message: string }[];
  /** Hand edits (kubectl edit/patch) of fields we manage, taken back: drift corrected. */
  driftCorrected: string[];
  failed: { name: string; kind: 'Stalled' | 'Waiting' | 'Transient'; reason: string; message: string }[];
}

export interface ApplyOptions {
  forceConflicts: boolean;
  concurrency?: number;
  /** Aborts when leadership is lost: no write starts after that. */
  signal?: AbortSignal;
  logger: Logger;
}

/** Managers of `live` other than Bulkhead that used server-side apply (declarative tools). */
export function otherAppliers(live: KubeObject | undefined): string[] {
  return [
    ...new Set(
      (live?.metadata.managedFields ?? [])
        .filter((m) => m.manager && m.manager !== FIELD_MANAGER && m.operation === 'Apply' && !m.subresource)
        .map((m) => m.manager as string),
    ),
  ];
}

/**
 * Executes a plan: server-side apply for creates and updates, delete for prunes, a bounded
 * number at a time. On a field-manager conflict Bulkhead does not fight another declarative
 * tool: if another manager *applied* the contested fields, the conflict is reported and the object left
 * alone (unless --force-conflicts). If the contested fields were taken by imperative edits (kubectl
 * edit/patch/replace: "Update" operations), that is drift from git and is re-applied with
 * force: git stays the source of truth. See docs/adr/0201-conflicts-and-drift.md.
 */
export async function executePlan(
  client: KubeClient,
  resolver: ResourceResolver,
  plan: Plan,
  opts: ApplyOptions,
): Promise<ApplyResult> {
  const r: ApplyResult = {
    created: [],
    updated: [],
    pruned: [],
    unchanged: plan.counts.unchanged,
    conflicts: [],
    driftCorrected: [],
    failed: [],
  };
  const todo = plan.items.filter((i) => i.action !== 'unchanged');
  let next = 0;
  const notLeader = (): BulkheadError =>
    new BulkheadError({
      kind: 'Waiting',
      code: 'BH_NOT_LEADER',
      reason: 'NotLeader',
      message: 'leadership lost: stopped writing',
    });
  const one = async (item: PlanItem): Promise<void> => {
    if (opts.signal?.aborted) throw notLeader();
    const id = `${item.kind}/${item.name}`;
    if (item.action === 'prune') {
      const live = item.live!;
      await deleteObject(client, resolver, {
        apiVersion: live.apiVersion,
        kind: live.kind,
        name: live.metadata.name,
        ...(live.metadata.uid ? { uid: live.metadata.uid } : {}),
      });
      r.pruned.push(id);
      return;
    }
    const desired = item.desired!;
    if (item.remove && item.remove.length > 0 && item.live) {
      // Fields added by hand where git has none (ADR 1412): an apply cannot remove a field
      // another manager owns, so they go first, on the version the plan saw.
      if (opts.signal?.aborted) throw notLeader();
      await removeStrayFields(client, resolver, item.live, item.remove);
      opts.logger.info(
        { object: id, fields: item.remove },
        'fields added by hand removed: git sets none (drift correction)',
      );
      r.driftCorrected.push(id);
    }
    try {
      await serverSideApply(client, resolver, desired, {
        force: opts.forceConflicts,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      if (!(isBulkheadError(err) && err.reason === 'ApplyConflict')) throw err;
      // Who owns the contested fields: another tool's Apply is a conflict to report; only
      // Update (hand edit) owners is drift to correct. Unknown owners: judge by the object.
      const fields = err.cause instanceof KubeApiError ? applyConflicts(err.cause).map((c) => c.field) : [];
      const owners = fields.flatMap((f) => fieldOwners(item.live, f));
      const appliers =
        owners.length > 0
          ? [...new Set(owners.filter((o) => o.operation !== 'Update').map((o) => o.manager))]
          : otherAppliers(item.live);
      if (appliers.length > 0) {
        r.conflicts.push({ name: id, managers: appliers, message: err.message });
        return;
      }
      if (opts.signal?.aborted) throw notLeader();
      opts.logger.info({ object: id }, 'fields taken by imperative edits: re-applying git state (drift correction)');
      await serverSideApply(client, resolver, desired, { force: true });
      if (!r.driftCorrected.includes(id)) r.driftCorrected.push(id);
    }
    (item.action === 'create' ? r.created : r.updated).push(id);
  };
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const item = todo[next++]!;
      try {
        await one(item);
      } catch (err) {
        if (isBulkheadError(err) && err.reason === 'NotLeader') throw err;
        r.failed.push({
          name: `${item.kind}/${item.name}`,
          kind: isBulkheadError(err) ? err.kind : 'Transient',
          reason: isBulkheadError(err) ? err.reason : 'ApplyFailed',
          message: errorMessage(err),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, Math.max(1, todo.length)) }, worker));
  return r;
}

/**
 * One JSON patch removing the fields, guarded by the plan's resourceVersion: an object changed
 * since is left for the next sync (409/422 from the test op), never patched blind.
 */
async function removeStrayFields(
  client: KubeClient,
  resolver: ResourceResolver,
  live: KubeObject,
  pointers: readonly string[],
): Promise<void> {
  const res = await resolver.resolve(live.apiVersion, live.kind);
  await client.request({
    method: 'PATCH',
    path: objectPath(res, live.metadata.name, res.namespaced ? live.metadata.namespace : undefined),
    contentType: 'application/json-patch+json',
    body: [
      { op: 'test', path: '/metadata/resourceVersion', value: live.metadata.resourceVersion },
      ...pointers.map((path) => ({ op: 'remove', path })),
    ],
  });
}
