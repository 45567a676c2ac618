// Short texts and badge tones derived from the snapshot's values.

export type Tone = 'ok' | 'bad' | 'warn' | 'info' | 'dim';

/** How long before `nowMs` (the snapshot's time, not the browser's clock) an ISO time was. */
export function ago(iso: string, nowMs: number): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const d = Math.max(0, Math.round((nowMs - t) / 1000));
  if (d < 60) return `${d}s ago`;
  if (d < 3600) return `${Math.floor(d / 60)}m ago`;
  if (d < 86400) return `${Math.floor(d / 3600)}h ago`;
  return `${Math.floor(d / 86400)}d ago`;
}

/** Revisions look like 'main@<sha>' or a bare sha: keep the ref, shorten the sha. */
export function short(rev: string | undefined): string {
  if (!rev) return '';
  const i = rev.lastIndexOf('@');
  const sha = rev.slice(i + 1).replace(/^(sha1:|sha256:)/, '');
  return (i >= 0 ? rev.slice(0, i + 1) : '') + sha.slice(0, 12);
}

export function phaseTone(phase: string): Tone {
  return phase === 'Isolated' ? 'bad' : phase === 'Released' ? 'dim' : 'warn';
}

/** A pod's or a source's state. */
export function stateTone(state: string): Tone {
  if (state === 'Healthy' || state === 'Ready') return 'ok';
  if (state === 'Failing' || state === 'Stalled' || state === 'NotReady') return 'bad';
  return state === 'Reconciling' ? 'info' : 'dim';
}
