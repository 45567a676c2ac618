import { isBulkheadError, errorMessage } from '../core/errors.js';
import { serverSideApply } from '../core/kube/apply.js';
import type { KubeClient } from '../core/kube/client.js';
import type { KubeObject, ResourceResolver } from '../core/kube/resources.js';
import { comparable, fieldChanges } from './diff.js';
import { computePlan, type Plan } from './plan.js';

export interface DryRunPlan extends Plan {
  /** Objects the apiserver refused in the dry run (schema, admission, conflicts). */
  rejected: { kind: string; name: string; reason: string; message: string }[];
}

/**
 * `bulkhead plan` against a live cluster: every create or update candidate is sent as a
 * server-side apply with dryRun=All, so the field diff is what the apiserver would store
 * (defaults, admission and fieldValidation=Strict included), and nothing is written.
 */
export async function dryRunPlan(
  client: KubeClient,
  resolver: ResourceResolver,
  desired: KubeObject[],
  live: KubeObject[],
  sourceName: string,
  opts: { force?: boolean; concurrency?: number } = {},
): Promise<DryRunPlan> {
  const base = computePlan(desired, live, sourceName);
  const rejected: DryRunPlan['rejected'] = [];
  const todo = base.items.filter((i) => i.desired);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const item = todo[next++]!;
      try {
        const result = await serverSideApply(client, resolver, item.desired!, {
          dryRun: true,
          ...(opts.force ? { force: true } : {}),
        });
        if (item.live) {
          const changes = fieldChanges(comparable(item.live), comparable(result));
          item.action = changes.length > 0 ? 'update' : 'unchanged';
          if (changes.length > 0) item.changes = changes;
          else delete item.changes;
        }
      } catch (err) {
        rejected.push({
          kind: item.kind,
          name: item.name,
          reason: isBulkheadError(err) ? err.reason : 'DryRunFailed',
          message: errorMessage(err),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, Math.max(1, todo.length)) }, worker));
  const counts = { create: 0, update: 0, prune: 0, unchanged: 0 };
  for (const i of base.items) counts[i.action]++;
  return { items: base.items, counts, rejected };
}
