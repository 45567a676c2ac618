/**
 * Hysteresis per pod, so a flapping pod does not toggle between healthy and failing: a pod
 * trips when a signal fires; once tripped it clears only after `clearAfter` consecutive quiet
 * evaluations AND `minHoldMs`; after clearing it cannot trip again for `cooldownMs`, unless
 * the signal is a threat (compromise is never waited out). Pure: state in, state out.
 */
export interface HysteresisOptions {
  clearAfter: number;
  minHoldMs: number;
  cooldownMs: number;
}

export const HYSTERESIS_DEFAULTS: HysteresisOptions = { clearAfter: 3, minHoldMs: 30_000, cooldownMs: 120_000 };

export interface HysteresisState {
  tripped: boolean;
  /** When the current state began. */
  since: number;
  quietStreak: number;
  clearedAt?: number;
}

export type Transition = 'trip' | 'clear' | null;

export function stepHysteresis(
  prev: HysteresisState | undefined,
  firing: boolean,
  threat: boolean,
  now: number,
  opts: HysteresisOptions = HYSTERESIS_DEFAULTS,
): { state: HysteresisState; transition: Transition } {
  const s: HysteresisState = prev ?? { tripped: false, since: now, quietStreak: 0 };
  if (!s.tripped) {
    const coolingDown = s.clearedAt !== undefined && now - s.clearedAt < opts.cooldownMs;
    if (firing && (threat || !coolingDown))
      return { state: { tripped: true, since: now, quietStreak: 0 }, transition: 'trip' };
    return { state: { ...s, quietStreak: firing ? 0 : s.quietStreak + 1 }, transition: null };
  }
  if (firing) return { state: { ...s, quietStreak: 0 }, transition: null };
  const quietStreak = s.quietStreak + 1;
  if (quietStreak >= opts.clearAfter && now - s.since >= opts.minHoldMs) {
    return { state: { tripped: false, since: now, quietStreak: 0, clearedAt: now }, transition: 'clear' };
  }
  return { state: { ...s, quietStreak }, transition: null };
}
