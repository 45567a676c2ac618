/**
 * The benchmark contract. Every figure is reported next to a baseline measured in the same
 * run on the same machine (these machines are noisy; absolute numbers from another run mean
 * little), as `ratio = value / baseline.value`.
 */
export interface BenchResult {
  /** e.g. "control-plane: warm start (workloads)" */
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  ratio?: number;
  /** The goal in words, e.g. "ratio <= 1.5" */
  goal?: string;
  /** Whether the goal held, when there is one. */
  met?: boolean;
  notes?: string;
}

export interface BenchContext {
  log(line: string): void;
  /** Fewer repetitions (BENCH_QUICK=1), for a smoke run. */
  quick: boolean;
}

export type Bench = (ctx: BenchContext) => Promise<BenchResult[]>;

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export const median = (values: number[]): number => percentile(values, 50);

export function withBaseline(r: Omit<BenchResult, 'ratio'>): BenchResult {
  return r.baseline ? { ...r, ratio: round(r.value / r.baseline.value, 3) } : r;
}

export const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** Runs `fn` n times and returns each duration in ms. */
export async function timeRuns(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    out.push(performance.now() - t);
  }
  return out;
}
