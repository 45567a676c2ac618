// Live updates: GET api/snapshot every 2 s (10 s while the tab is hidden or the engine is
// unreachable), never two at once, and the whole page redrawn from each answer. A 401 ends
// the polling: the session expired and only the token link opens a new one.
import type { DashboardSnapshot } from '../view-model.js';
import { byId } from './dom.js';
import { renderPods } from './pods.js';
import { renderPolicies } from './policies.js';
import { renderQuarantines } from './quarantines.js';
import { renderSources } from './sources.js';
import { renderSummary } from './summary.js';
import { refreshTimelines } from './timelines.js';
import { view } from './view-state.js';

const POLL_MS = 2000;
const SLOW_MS = 10_000;

const loop = { timer: 0, inflight: false, again: false, stopped: false };

function render(snap: DashboardSnapshot): void {
  // Ages are relative to the snapshot's time: the browser's clock may be off.
  const nowMs = Date.parse(snap.generatedAt);
  renderSummary(snap);
  renderQuarantines(snap, nowMs);
  renderPods(snap, nowMs);
  renderPolicies(snap);
  renderSources(snap);
  refreshTimelines();
  document.body.setAttribute('data-generated-at', snap.generatedAt);
}

function setLive(ok: boolean, text: string): void {
  const el = byId('live', HTMLElement);
  el.className = 'live ' + (ok ? 'ok' : 'err');
  el.textContent = text;
}

const messageOf = (err: unknown): string => {
  const m = typeof err === 'object' && err !== null ? (err as { message?: unknown }).message : undefined;
  return m ? String(m) : 'error';
};

/** The next poll in `ms` (0: now, as after a change of page or filter), unless polling ended. */
export function schedule(ms: number): void {
  clearTimeout(loop.timer);
  if (!loop.stopped) loop.timer = setTimeout(() => void poll(), ms);
}

/** One poll; one asked for while another runs follows it at once. */
export async function poll(): Promise<void> {
  if (loop.inflight) {
    loop.again = true;
    return;
  }
  loop.inflight = true;
  const params = new URLSearchParams();
  params.set('page', String(view.page));
  if (view.q) params.set('q', view.q);
  let delay = document.hidden ? SLOW_MS : POLL_MS;
  try {
    const res = await fetch(`api/snapshot?${params.toString()}`, {
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
    });
    if (res.status === 401) {
      loop.stopped = true;
      setLive(false, 'session expired: open the dashboard link with its token again');
    } else {
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const snap = (await res.json()) as DashboardSnapshot;
      render(snap);
      setLive(true, `live · updated ${new Date(snap.generatedAt).toLocaleTimeString()}`);
    }
  } catch (err) {
    delay = SLOW_MS;
    setLive(false, `engine unreachable (${messageOf(err)}), retrying`);
  }
  loop.inflight = false;
  if (loop.again) {
    loop.again = false;
    delay = 0;
  }
  schedule(delay);
}
