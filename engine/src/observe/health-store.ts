import { PROBE_ERROR_CLASSES, type HealthSample, type PodEvent, type PodRef, type ProcessStats } from './report.js';

/**
 * Per-pod bounded time windows: the recent health of every reporting pod, in memory.
 *
 * Memory bound (the issue asks to state it). Samples are packed in typed arrays, not objects:
 * 8 (time) + 8 (seq) + 4 (latency) + 2 (status) + 1 (ok/type/error bits) = 23 bytes each.
 * With the defaults (maxPods 10,000, samplesPerPod 120, eventsPerPod 16):
 *   samples  10,000 × 120 × 23 B            ≈ 27.6 MB
 *   events   10,000 × 16 × ~200 B (worst)    ≈ 32 MB, allocated only when a pod has events
 *   per pod  ~1 KB of strings, maps, latest process stats ≈ 10 MB
 * so ≤ ~70 MB worst case, typically ~40 MB. Beyond maxPods the least recently updated pod is
 * evicted (Map insertion order, refreshed on update: LRU in O(1)). Samples older than maxAge
 * are invisible to reads and overwritten as the ring turns.
 */
export interface HealthStoreOptions {
  maxPods?: number;
  samplesPerPod?: number;
  eventsPerPod?: number;
  /** Samples older than this are not returned (ms). */
  maxAgeMs?: number;
  now?: () => number;
  /** Called with the pod uid after new samples or an event were added (analytics wakes on it). */
  onChange?: (uid: string) => void;
}

export interface IngestResult {
  added: number;
  duplicates: number;
  droppedDelta: number;
  gapsDelta: number;
}

/** One pod's health window as the store returns it: its samples and lifecycle events, with counts of what was lost. */
export interface PodHealthWindow {
  namespace: string;
  pod: string;
  uid: string;
  /** The policy that judges the pod, as the engine read it from the cluster (never from the report). */
  policy?: string;
  sidecar?: { version: string; instance: string };
  /** Cumulative samples the pod's sidecar said it dropped (buffer overflow while we were unreachable). */
  droppedBySidecar: number;
  /** Samples missing between received sequence numbers (lost without the sidecar knowing). */
  gaps: number;
  lastReportAt?: string;
  process?: ProcessStats;
  samples: HealthSample[];
  events: PodEvent[];
}

const OK = 1;
const TCP = 2;
const ERR_SHIFT = 2; // 3 bits of error class (0 = none)

/**
 * Sample storage for many pods in a few large typed arrays: chunks of 256 pods, each pod a
 * fixed slot of `cap` samples. One ArrayBuffer per pod and field (50,000 of them at 10,000
 * pods) made every young-generation GC several times slower (V8 sweeps array buffer
 * extensions); 40 chunks × 5 fields keep GC pauses short. Freed slots are reused.
 */
const PODS_PER_CHUNK = 256;

class Chunk {
  readonly time: Float64Array;
  readonly seq: Float64Array;
  readonly latency: Float32Array;
  readonly status: Uint16Array;
  readonly bits: Uint8Array;
  constructor(cap: number) {
    const n = cap * PODS_PER_CHUNK;
    this.time = new Float64Array(n);
    this.seq = new Float64Array(n);
    this.latency = new Float32Array(n);
    this.status = new Uint16Array(n);
    this.bits = new Uint8Array(n);
  }
}

class PodWindow {
  head = 0;
  count = 0;
  events: PodEvent[] | undefined;
  eventHead = 0;
  policy: string | undefined;
  instance: string | undefined;
  version: string | undefined;
  lastSeq = 0;
  droppedBySidecar = 0;
  gaps = 0;
  lastReportAt = 0;
  process: ProcessStats | undefined;

  constructor(
    readonly ref: PodRef,
    readonly slot: number,
    /** The chunk holding this pod's samples, and where its slot starts in it. */
    readonly arr: Chunk,
    readonly base: number,
  ) {}
}

export class HealthStore {
  private readonly pods = new Map<string, PodWindow>();
  private readonly maxPods: number;
  private readonly cap: number;
  private readonly eventCap: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly onChange: ((uid: string) => void) | undefined;
  private readonly chunks: Chunk[] = [];
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  evictions = 0;

  constructor(opts: HealthStoreOptions = {}) {
    this.maxPods = opts.maxPods ?? 10_000;
    this.cap = opts.samplesPerPod ?? 120;
    this.eventCap = opts.eventsPerPod ?? 16;
    this.maxAgeMs = opts.maxAgeMs ?? 30 * 60_000;
    this.now = opts.now ?? Date.now;
    this.onChange = opts.onChange;
  }

  get size(): number {
    return this.pods.size;
  }

  /**
   * Adds a report's samples. Returns how many were new (a retried batch may repeat some), and
   * how many more samples the sidecar says it dropped and how many went missing in transit
   * since the previous report.
   */
  addReport(r: {
    pod: PodRef;
    sidecar: { version: string; instance: string };
    dropped: number;
    samples: HealthSample[];
  }): IngestResult {
    // The report's own `policy` field is not kept: the policy that judges a pod is read from
    // the cluster (setPolicy), never taken from what the pod says (ADR 1400).
    const w = this.window(r.pod);
    if (w.instance !== r.sidecar.instance) {
      // A new sidecar process: its sequence numbers start again.
      w.instance = r.sidecar.instance;
      w.version = r.sidecar.version;
      w.lastSeq = 0;
      w.droppedBySidecar = 0;
    }
    const droppedDelta = Math.max(0, r.dropped - w.droppedBySidecar);
    w.droppedBySidecar = Math.max(w.droppedBySidecar, r.dropped);
    w.lastReportAt = this.now();
    const gapsBefore = w.gaps;
    let added = 0;
    for (const s of r.samples) {
      if (s.seq <= w.lastSeq) continue; // duplicate of a batch whose ack was lost
      if (w.lastSeq > 0 && s.seq > w.lastSeq + 1) w.gaps += s.seq - w.lastSeq - 1;
      w.lastSeq = s.seq;
      const i = (w.head + w.count) % this.cap;
      if (w.count === this.cap) w.head = (w.head + 1) % this.cap;
      else w.count++;
      const a = w.arr;
      const j = w.base + i;
      a.time[j] = Date.parse(s.time);
      a.seq[j] = s.seq;
      a.latency[j] = s.probe.latencyMs;
      a.status[j] = s.probe.status ?? 0;
      const err = s.probe.error ? PROBE_ERROR_CLASSES.indexOf(s.probe.error) + 1 : 0;
      a.bits[j] = (s.probe.ok ? OK : 0) | (s.probe.type === 'tcp' ? TCP : 0) | (err << ERR_SHIFT);
      if (s.process) w.process = s.process;
      added++;
    }
    if (added > 0) this.onChange?.(r.pod.uid);
    return { added, duplicates: r.samples.length - added, droppedDelta, gapsDelta: w.gaps - gapsBefore };
  }

  addEvent(pod: PodRef, event: PodEvent): void {
    const w = this.window(pod);
    w.events ??= [];
    if (w.events.length < this.eventCap) w.events.push(event);
    else {
      w.events[w.eventHead] = event;
      w.eventHead = (w.eventHead + 1) % this.eventCap;
    }
    this.onChange?.(pod.uid);
  }

  /**
   * The policy the engine judges this pod by (the injection annotation checked against the
   * live policies), or undefined when none does; read back as the window's `policy`, and by
   * the sibling lookup. A pod without a window is left alone (no window is created for it).
   */
  setPolicy(uid: string, policy: string | undefined): void {
    const w = this.pods.get(uid);
    if (w) w.policy = policy;
  }

  /** A deleted pod's window goes at once (its uid never reports again). */
  remove(uid: string): void {
    const w = this.pods.get(uid);
    if (!w) return;
    this.pods.delete(uid);
    this.freeSlots.push(w.slot);
  }

  get(uid: string, sinceMs = 0): PodHealthWindow | undefined {
    const w = this.pods.get(uid);
    return w ? this.view(w, sinceMs) : undefined;
  }

  /** Pods matching namespace (and name), sorted by namespace and name, oldest sample first within each pod. */
  query(q: { namespace?: string; pod?: string; sinceMs?: number }): PodHealthWindow[] {
    return [...this.scan(q)];
  }

  /**
   * The same, one pod at a time: a read of all 10,000 pods never holds more than one pod's
   * view (the read API streams it).
   */
  *scan(q: { namespace?: string; pod?: string; sinceMs?: number }): Generator<PodHealthWindow> {
    const hits: PodWindow[] = [];
    for (const w of this.pods.values()) {
      if (q.namespace !== undefined && w.ref.namespace !== q.namespace) continue;
      if (q.pod !== undefined && w.ref.name !== q.pod) continue;
      hits.push(w);
    }
    hits.sort((a, b) =>
      a.ref.namespace === b.ref.namespace
        ? a.ref.name.localeCompare(b.ref.name)
        : a.ref.namespace.localeCompare(b.ref.namespace),
    );
    // A window evicted meanwhile (its slot possibly reused) is skipped.
    for (const w of hits) if (this.pods.get(w.ref.uid) === w) yield this.view(w, q.sinceMs ?? 0);
  }

  private window(pod: PodRef): PodWindow {
    let w = this.pods.get(pod.uid);
    if (w) {
      // Refresh recency: Map iteration order is insertion order, so the first key is the LRU.
      this.pods.delete(pod.uid);
      this.pods.set(pod.uid, w);
      return w;
    }
    if (this.pods.size >= this.maxPods) {
      const lru = this.pods.keys().next().value;
      if (lru !== undefined) {
        this.remove(lru);
        this.evictions++;
      }
    }
    const slot = this.freeSlots.pop() ?? this.nextSlot++;
    const c = Math.floor(slot / PODS_PER_CHUNK);
    while (this.chunks.length <= c) this.chunks.push(new Chunk(this.cap));
    w = new PodWindow(pod, slot, this.chunks[c]!, (slot % PODS_PER_CHUNK) * this.cap);
    this.pods.set(pod.uid, w);
    return w;
  }

  private view(w: PodWindow, sinceMs: number): PodHealthWindow {
    const floor = Math.max(sinceMs, this.now() - this.maxAgeMs);
    const samples: HealthSample[] = [];
    const a = w.arr;
    for (let k = 0; k < w.count; k++) {
      const i = w.base + ((w.head + k) % this.cap);
      const t = a.time[i]!;
      if (t < floor) continue;
      const bits = a.bits[i]!;
      const err = bits >> ERR_SHIFT;
      const status = a.status[i]!;
      samples.push({
        seq: a.seq[i]!,
        time: new Date(t).toISOString(),
        probe: {
          type: bits & TCP ? 'tcp' : 'http',
          ok: (bits & OK) === OK,
          latencyMs: Math.round(a.latency[i]! * 1000) / 1000,
          ...(status ? { status } : {}),
          ...(err ? { error: PROBE_ERROR_CLASSES[err - 1]! } : {}),
        },
      });
    }
    const events = w.events
      ? [...w.events.slice(w.eventHead), ...w.events.slice(0, w.eventHead)].filter((e) => Date.parse(e.time) >= floor)
      : [];
    return {
      namespace: w.ref.namespace,
      pod: w.ref.name,
      uid: w.ref.uid,
      ...(w.policy ? { policy: w.policy } : {}),
      ...(w.instance ? { sidecar: { version: w.version ?? '', instance: w.instance } } : {}),
      droppedBySidecar: w.droppedBySidecar,
      gaps: w.gaps,
      ...(w.lastReportAt ? { lastReportAt: new Date(w.lastReportAt).toISOString() } : {}),
      ...(w.process ? { process: w.process } : {}),
      samples,
      events,
    };
  }
}
