/**
 * Recovery: nodes' servers stop (connections destroyed, then refused) and
 * come back after 1, 5 and 30 s (three nodes each, all in parallel); the time
 * from a server's return to the first head the monitor delivers from it,
 * against the wait the retry policy had scheduled at that moment (the node's
 * `nextAttemptAt`) and the policy's step for that attempt (`RetryPolicy.baseDelay`
 * × the jitter bounds). The server greets every new stream with the current
 * head, so the figure is reconnect time, not slot time. Mainnet defaults.
 */
import * as MonitorConfig from "../../src/config/MonitorConfig.js"
import { mainnet as mainnetSlot } from "../../src/requests/SlotDuration.js"
import * as RetryPolicy from "../../src/stream/RetryPolicy.js"
import { Duration } from "effect"
import * as MonitorClient from "./MonitorClient.js"
import { MultiNodeServer } from "./MultiNodeServer.js"
import { range, row, type ScenarioResult, sleep, waitFor } from "./Report.js"
import { ratios, summarize } from "./Stats.js"

const downFor = (process.env.BENCH_RECOVERY_SECONDS ?? "1,5,30").split(",").map(Number)
const perDuration = 3

interface Sample {
  readonly downSeconds: number
  /** Return → first head delivered. */
  readonly recoveredMs: number
  /** Return → the attempt the policy had scheduled. */
  readonly scheduledMs: number
  readonly attempt: number
  readonly stepMs: { readonly base: number; readonly min: number; readonly max: number }
}

export const run = async (): Promise<ScenarioResult> => {
  const { retry } = MonitorConfig.make({}, mainnetSlot)
  const servers = await Promise.all(downFor.flatMap((seconds) =>
    range(perDuration).map(async () => {
      const server = new MultiNodeServer()
      server.greet = true
      server.slot = 1
      await server.listen()
      return { seconds, server, url: server.url("n") }
    })
  ))
  const firstHeadAt = new Map<string, number>()
  let returnedAt = new Map<string, number>()
  const monitor = await MonitorClient.start(servers.map((s) => s.url), { slotDuration: mainnetSlot }, (event) => {
    const back = returnedAt.get(event.node.id)
    if (back !== undefined && !firstHeadAt.has(event.node.id)) firstHeadAt.set(event.node.id, performance.now())
  })
  await waitFor(() => servers.every((s) => s.server.open === 1), 10_000, "all open")
  const ticker = setInterval(() => {
    for (const { server } of servers) server.send("n", ++server.slot)
  }, 1_000)
  await sleep(1_500)

  await Promise.all(servers.map((s) => s.server.stop()))
  const stoppedAt = performance.now()
  const samples = await Promise.all(servers.map(async (s): Promise<Sample> => {
    await sleep(s.seconds * 1_000 - (performance.now() - stoppedAt))
    const status = (await monitor.status()).find((st) => st.node.id === s.url)!
    const wallNow = Date.now()
    await s.server.listen()
    const back = performance.now()
    returnedAt = new Map(returnedAt).set(s.url, back)
    const state = status.state
    const waiting = state._tag === "Backoff" || state._tag === "Stalled" || state._tag === "Rejected"
    const attempt = waiting ? state.attempt : 0
    await waitFor(() => firstHeadAt.has(s.url), 20_000, "the node recovers", 1)
    const base = attempt === 0 ? 0 : Duration.toMillis(RetryPolicy.baseDelay(retry, attempt, false))
    return {
      downSeconds: s.seconds,
      recoveredMs: firstHeadAt.get(s.url)! - back,
      scheduledMs: waiting ? Math.max(0, state.nextAttemptAt - wallNow) : 0,
      attempt,
      stepMs: { base, min: base * retry.jitter.min, max: base * retry.jitter.max }
    }
  }))
  clearInterval(ticker)
  await monitor.close()
  await Promise.all(servers.map((s) => s.server.stop()))

  const rows = downFor.map((seconds) => {
    const of = samples.filter((s) => s.downSeconds === seconds)
    const steps = of.map((s) => `#${s.attempt} ${(s.stepMs.min / 1000).toFixed(1)}–${(s.stepMs.max / 1000).toFixed(1)} s`)
    return row(
      {
        benchmark: `5. recovery after ${seconds} s down`,
        metric: "ms from return to first head",
        baselineOf: `scheduled wait (step ${[...new Set(steps)].join(", ")})`,
        target: "≤ scheduled step + 100 ms"
      },
      summarize(of.map((s) => s.recoveredMs)),
      summarize(of.map((s) => s.scheduledMs)),
      // A wait of 0 (the node returned while a try was due) counts as 1 ms, so the ratio stays a number.
      ratios(of.map((s) => s.recoveredMs), of.map((s) => Math.max(1, s.scheduledMs))),
      () => of.every((s) => s.recoveredMs <= s.scheduledMs + 100 && s.scheduledMs <= s.stepMs.max + 1),
      0
    )
  })
  return { rows, details: { retry: { ...retry, initialDelay: Duration.toMillis(retry.initialDelay), maxDelay: Duration.toMillis(retry.maxDelay) }, samples } }
}
