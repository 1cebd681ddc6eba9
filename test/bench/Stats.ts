/** Summaries of measurements: percentiles of samples, and median with min–max over runs. */

/** Nearest-rank percentile of unsorted samples (p in 0–100). */
export const percentile = (samples: ReadonlyArray<number>, p: number): number => {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

/** A figure over several runs. */
export interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly runs: number
}

export const summarize = (values: ReadonlyArray<number>): Summary => ({
  median: percentile(values, 50),
  min: Math.min(...values),
  max: Math.max(...values),
  runs: values.length
})

/** `1.23 (1.10–1.40)` with the given number of decimals. */
export const format = (summary: Summary, digits: number): string =>
  summary.runs === 1
    ? summary.median.toFixed(digits)
    : `${summary.median.toFixed(digits)} (${summary.min.toFixed(digits)}–${summary.max.toFixed(digits)})`

/** The per-run ratios `ours[i] / baseline[i]` of runs made side by side, summarised. */
export const ratios = (ours: ReadonlyArray<number>, baseline: ReadonlyArray<number>): Summary =>
  summarize(ours.map((value, i) => value / baseline[i]!))
