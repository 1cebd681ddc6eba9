/**
 * The live status table shown on a terminal: one row per node, in list order.
 *
 * Pure rendering, so its look is tested and documented without a terminal.
 *
 * @since 0.1.0
 */
import type { NodeStatus } from "../monitor/NodeStatus.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface TableInput {
  /** Epoch milliseconds. */
  readonly now: number
  /** The current slot by the slot clock. */
  readonly slot: number
  /** Version of the candidate list (0 until the first update). */
  readonly listVersion: number
  readonly nodes: ReadonlyArray<NodeStatus>
  /** Milliseconds the node's current head arrived after the first node's, if known. */
  readonly lagOf: (status: NodeStatus) => number | undefined
  /** Shown in the title, e.g. "SIMULATED DEVNET". */
  readonly banner?: string | undefined
  readonly colors: boolean
}

/**
 * `850ms`, `12s`, `5m`, `3h`, `2d`.
 *
 * @since 0.1.0
 */
export const formatAge = (millis: number): string => {
  const ms = Math.max(0, millis)
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${Math.floor(ms / 1000)}s`
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m`
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)}h`
  return `${Math.floor(ms / 86_400_000)}d`
}

const stateText = (status: NodeStatus, now: number): string => {
  const state = status.state
  const lagging = status.lagging ? ", lagging" : ""
  switch (state._tag) {
    case "Connecting":
      return `connecting${state.attempt > 0 ? ` #${state.attempt + 1}` : ""}`
    case "Open":
      return `open ${formatAge(now - state.since)}${lagging}`
    case "Quiet":
      return `quiet ${formatAge(now - state.silentSince)}, confirmed ${formatAge(now - state.confirmedAt)} ago${lagging}`
    case "Backoff":
    case "Stalled":
    case "Rejected":
      return `${state._tag.toLowerCase()} #${state.attempt}, retry in ${formatAge(state.nextAttemptAt - now)}`
  }
}

const stateColor = (status: NodeStatus): string => {
  switch (status.state._tag) {
    case "Open":
      return status.lagging ? "\x1b[33m" : "\x1b[32m"
    case "Connecting":
    case "Quiet":
      return "\x1b[36m"
    case "Backoff":
    case "Stalled":
      return "\x1b[33m"
    case "Rejected":
      return "\x1b[31m"
  }
}

const reconnects = (status: NodeStatus): number =>
  Object.values(status.counters.disconnects).reduce((sum, n) => sum + n, 0)

const headers = ["#", "NODE", "STATE", "HEAD SLOT", "LAG ms", "RECONNECTS", "LAST ERROR"] as const
/** Columns aligned right (numbers). */
const numeric = new Set([0, 3, 4, 5])

/**
 * The table's lines: a title, the header row, one row per node.
 *
 * @since 0.1.0
 */
export const render = (input: TableInput): Array<string> => {
  const paint = (code: string, value: string) => (input.colors ? `${code}${value}\x1b[0m` : value)
  const rows = input.nodes.map((status) => {
    const lag = status.head === undefined ? undefined : input.lagOf(status)
    const error = status.lastError
    return [
      String(status.index),
      status.node.display,
      stateText(status, input.now),
      status.head === undefined ? "-" : String(status.head.slot),
      lag === undefined ? "-" : String(Math.round(lag)),
      String(reconnects(status)),
      error === undefined ? "-" : `${error.reason} (${error.detail}) ${formatAge(input.now - error.at)} ago`
    ]
  })
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
  const title = [
    "beacon-head-monitor",
    `slot ${input.slot}`,
    `${input.nodes.length} node${input.nodes.length === 1 ? "" : "s"}`,
    `list v${input.listVersion}`,
    ...(input.banner === undefined ? [] : [paint("\x1b[1;35m", input.banner)])
  ].join(" · ")
  return [
    paint("\x1b[1m", title),
    paint("\x1b[2m", line(headers).join("  ").trimEnd()),
    ...rows.map((row, i) => {
      const cells = line(row)
      cells[2] = paint(stateColor(input.nodes[i]!), cells[2]!)
      return cells.join("  ").trimEnd()
    })
  ]
}
