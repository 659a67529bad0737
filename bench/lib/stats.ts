// Medians and spreads of repeated measurements: every figure of the bench is
// measured `--repeat` times, and the report gives the median and the range.

/** The median and the range of repeated samples of one figure. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Median (the mean of the two middle samples when n is even) and range; NaN samples are left out. */
export function spreadOf(samples: readonly number[]): Spread {
  const xs = samples.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const n = xs.length;
  if (n === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const mid = Math.floor(n / 2);
  const median = n % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
  return { median, min: xs[0]!, max: xs[n - 1]!, n };
}

/** (max - min) / median: 0.1 means the samples lie within 10% of the median's size. */
export function relativeSpread(s: Spread): number {
  return s.n === 0 || s.median === 0 ? NaN : (s.max - s.min) / Math.abs(s.median);
}

/** The q-quantile (0..1) of samples by the nearest-rank method; NaN when empty. */
export function quantile(samples: readonly number[], q: number): number {
  const xs = [...samples].sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  return xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))]!;
}
