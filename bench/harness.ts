/** Tiny benchmark harness: repeated timing with warm-up, medians, and a uniform result shape. */
export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  /** What the figure is compared with in the same run, if anything. */
  baseline?: { name: string; value: number; unit: string };
  note?: string;
}

export interface Benchmark {
  name: string;
  description: string;
  run(): Promise<BenchFigure[]>;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Median wall time in ms of `fn` over `runs` runs after `warmup` unmeasured ones. */
export function timeMs(fn: () => void, runs: number, warmup = Math.ceil(runs / 10)): number {
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
}
