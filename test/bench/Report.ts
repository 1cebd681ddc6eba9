import { format, type Summary } from "./Stats.js"

/**
 * One line of the benchmark table: our figure beside its baseline measured in
 * the same run, their ratio, and the target it is judged against.
 */
export interface Row {
  readonly benchmark: string
  readonly metric: string
  /** Our figure (the median over runs). */
  readonly ours: number
  /** The baseline's figure (the median over runs). */
  readonly baseline: number
  /** What the baseline is: `bare node:http`, `eventsource`, a scheduled wait… */
  readonly baselineOf: string
  /** Ours ÷ baseline: the median of the per-run ratios where runs pair up. */
  readonly ratio: number
  readonly target: string
  readonly met: boolean
  /** Median (min–max) of ours and of the baseline over the runs, for the printed table. */
  readonly spread: string
}

/** A row from the per-run figures of ours and the baseline: medians, and the median of the paired ratios. */
export const row = (
  fields: Omit<Row, "ours" | "baseline" | "ratio" | "met" | "spread">,
  ours: Summary,
  baseline: Summary,
  ratio: Summary,
  met: (ours: number, ratio: number) => boolean,
  digits = 1
): Row => ({
  ...fields,
  ours: ours.median,
  baseline: baseline.median,
  ratio: Number(ratio.median.toFixed(3)),
  met: met(ours.median, ratio.median),
  spread: `${format(ours, digits)} vs ${format(baseline, digits)}`
})

/** What one scenario process reports: its table rows and the figures behind them. */
export interface ScenarioResult {
  readonly rows: ReadonlyArray<Row>
  readonly details: Record<string, unknown>
}

/** Resolves when `condition` holds, polling every `everyMs`; rejects after `timeoutMs`. */
export const waitFor = async (condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 5) => {
  const start = performance.now()
  while (!(await condition())) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${what}`)
    await sleep(everyMs)
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)
