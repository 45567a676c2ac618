// Pod charts: one slot per pod on the page, drawn at once from a cache of timelines, which
// is refreshed in the background (GET api/timeline, per pod, when the pod reported since
// the last fetch or every 10 s) and forgets the pods no longer on the page.
import type { Timeline } from '../view-model.js';
import { drawChart } from './chart.js';
import { h } from './dom.js';

const TIMELINE_MAX_AGE_MS = 10_000;

/** api/timeline answers this, not a 404, for a pod with no health data in this engine's memory. */
interface Missing {
  missing: true;
}
const isMissing = (d: Timeline | Missing): d is Missing => Boolean((d as Partial<Missing>).missing);

interface Entry {
  /** A slot for this pod was drawn since the last refresh (else the entry is dropped). */
  seen: boolean;
  fetchedAt: number;
  data: Timeline | null;
  missing: boolean;
  /** The pod's last report time in the pod list: a new one makes the timeline stale. */
  lastReportAt: string | undefined;
  stale: boolean;
  busy: boolean;
}

const cache = new Map<string, Entry>();

export function chartSlot(uid: string, label: string, lastReportAt?: string): HTMLElement {
  const slot = h('div', { class: 'chart-slot', 'data-uid': uid, 'data-label': label });
  let entry = cache.get(uid);
  if (entry) entry.seen = true;
  else {
    entry = {
      seen: true,
      fetchedAt: 0,
      data: null,
      missing: false,
      lastReportAt: undefined,
      stale: false,
      busy: false,
    };
    cache.set(uid, entry);
  }
  if (lastReportAt !== undefined && lastReportAt !== entry.lastReportAt) {
    entry.stale = true;
    entry.lastReportAt = lastReportAt;
  }
  drawInto(slot, entry, label);
  return slot;
}

function drawInto(slot: Element, entry: Entry, label: string): void {
  slot.replaceChildren(
    entry.data
      ? drawChart(entry.data, label)
      : h('div', { class: 'chart-empty' }, entry.missing ? 'no health data in memory' : 'loading…'),
  );
}

/** After a render: fetch the timelines that are due, drop those of pods no longer shown. */
export function refreshTimelines(): void {
  const nowMs = Date.now();
  for (const [uid, entry] of cache) {
    if (!entry.seen) {
      cache.delete(uid);
      continue;
    }
    entry.seen = false;
    if (entry.busy || (!entry.stale && nowMs - entry.fetchedAt < TIMELINE_MAX_AGE_MS)) continue;
    entry.busy = true;
    entry.stale = false;
    void refresh(uid, entry);
  }
}

async function refresh(uid: string, entry: Entry): Promise<void> {
  try {
    const res = await fetch(`api/timeline?uid=${encodeURIComponent(uid)}`, {
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const d = (await res.json()) as Timeline | Missing;
    if (isMissing(d)) {
      entry.missing = true;
      entry.data = null;
    } else {
      entry.data = d;
      entry.missing = false;
    }
  } catch {
    // Kept as it was: the next poll retries.
  }
  entry.busy = false;
  entry.fetchedAt = Date.now();
  for (const slot of document.querySelectorAll('.chart-slot')) {
    if (slot.getAttribute('data-uid') === uid) drawInto(slot, entry, slot.getAttribute('data-label') ?? '');
  }
}
