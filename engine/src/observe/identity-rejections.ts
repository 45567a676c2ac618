/**
 * Reports refused because an authenticated pod spoke about another pod (its own, valid,
 * pod-bound token; a report naming a different pod). The refusal is counted against the
 * token's pod, the one that proved who it is: never against the pod the report names, or a
 * compromised pod could get a sibling quarantined by framing it (ADR 1800). Bad, expired or
 * foreign-audience tokens prove nothing about who sent them and are not counted here.
 *
 * Bounded: at most `maxPods` pods (the least recently rejected pod is dropped past it) and
 * the latest `perPod` times per pod (older ones are dropped; the detector needs only a few).
 */
export class IdentityRejections {
  private readonly pods = new Map<string, number[]>();
  private readonly maxPods: number;
  private readonly perPod: number;
  private readonly onChange: ((uid: string) => void) | undefined;

  constructor(opts: { maxPods?: number; perPod?: number; onChange?: (uid: string) => void } = {}) {
    this.maxPods = opts.maxPods ?? 10_000;
    this.perPod = opts.perPod ?? 32;
    this.onChange = opts.onChange;
  }

  get size(): number {
    return this.pods.size;
  }

  record(uid: string, at: number): void {
    const times = this.pods.get(uid) ?? [];
    this.pods.delete(uid); // re-insert: Map order is the LRU order
    times.push(at);
    if (times.length > this.perPod) times.splice(0, times.length - this.perPod);
    this.pods.set(uid, times);
    if (this.pods.size > this.maxPods) this.pods.delete(this.pods.keys().next().value as string);
    this.onChange?.(uid);
  }

  /** The refusal times (epoch ms, oldest first) counted against this pod. */
  of(uid: string): readonly number[] {
    return this.pods.get(uid) ?? [];
  }

  /** A deleted pod's record goes with it. */
  remove(uid: string): void {
    this.pods.delete(uid);
  }
}
