/**
 * Runs `fn` for a burst of triggers at most twice: one run in flight, and one more queued for
 * every trigger that arrived while it ran (a webhook during a poll must not be lost, but ten
 * webhooks during a poll are still just one more fetch). Every caller gets the result of a
 * run that started after its trigger.
 */
export class Coalescer<T> {
  private running: Promise<T> | undefined;
  private queued: Promise<T> | undefined;
  private runs = 0;
  private triggers = 0;

  constructor(private readonly fn: () => Promise<T>) {}

  trigger(): Promise<T> {
    this.triggers++;
    if (!this.running) return this.start();
    if (!this.queued) {
      this.queued = this.running.then(
        () => this.start(),
        () => this.start(),
      );
    }
    return this.queued;
  }

  /** Triggers received and runs made: triggers - runs were coalesced away. */
  stats(): { triggers: number; runs: number } {
    return { triggers: this.triggers, runs: this.runs };
  }

  private start(): Promise<T> {
    this.queued = undefined;
    this.runs++;
    const p = this.fn();
    this.running = p;
    const clear = (): void => {
      if (this.running === p) this.running = undefined;
    };
    p.then(clear, clear);
    return p;
  }
}
