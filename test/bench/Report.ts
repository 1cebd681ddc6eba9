/** One line of the benchmark table: our figure beside its baseline, and the target. */
export interface Row {
  readonly benchmark: string
  readonly metric: string
  readonly ours: string
  readonly baseline: string
  /** Difference or ratio of ours to the baseline. */
  readonly comparison: string
  readonly target: string
  readonly met: boolean
}

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
