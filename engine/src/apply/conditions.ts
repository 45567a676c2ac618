import type { Condition } from '../core/api/index.js';

export type ConditionStatus = Condition['status'];

/**
 * Sets a condition in the standard shape, keeping `lastTransitionTime` unless the status
 * changed (so re-computing an unchanged condition is no status write).
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
