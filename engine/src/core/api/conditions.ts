import type { Condition } from './generated/healthpolicy.js';

export type ConditionStatus = Condition['status'];

/**
 * Sets one condition (by type) in the standard shape that Argo CD and Flux health checks read,
 * leaving the other types as they are and keeping `lastTransitionTime` unless the status
 * changed (so re-computing an unchanged condition is no status write). Every status writer in
 * the engine goes through here.
 */
export function setCondition(
  current: Condition[] | undefined,
  next: { type: string; status: ConditionStatus; reason: string; message: string; observedGeneration?: number },
  now: Date,
): Condition[] {
  const list = [...(current ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const prev = i >= 0 ? list[i] : undefined;
  const cond: Condition = {
    type: next.type,
    status: next.status,
    reason: next.reason,
    message: next.message.length > 32_000 ? `${next.message.slice(0, 31_997)}...` : next.message,
    lastTransitionTime:
      prev && prev.status === next.status ? prev.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...(next.observedGeneration !== undefined ? { observedGeneration: next.observedGeneration } : {}),
  };
  if (i >= 0) list[i] = cond;
  else list.push(cond);
  return list;
}

export const findCondition = (list: Condition[] | undefined, type: string): Condition | undefined =>
  list?.find((c) => c.type === type);
