/**
 * A monitor in its own process, for the SIGTERM fault: follows the nodes given
 * as arguments under `NodeRuntime.runMain` (which interrupts the program on
 * SIGTERM) and prints every node's connection state as one JSON line every 10 ms.
 *
 * Usage: node dist/test/faults/monitorProcess.js INITIAL_DELAY_MS URL... (built by `scripts/build.mjs faults`)
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Schedule } from "effect"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"

const [delay, ...urls] = process.argv.slice(2)

const program = Effect.gen(function*() {
  const monitor = yield* HeadMonitor.HeadMonitor
  yield* monitor.status.pipe(
    Effect.tap((statuses) =>
      Effect.sync(() => {
        process.stdout.write(`${JSON.stringify(statuses.map((s) => ({ node: s.node.display, state: s.state._tag })))}\n`)
      })
    ),
    Effect.repeat(Schedule.spaced(10))
  )
}).pipe(
  Effect.provide(HeadMonitor.layerNode(urls, {
    retry: { initialDelay: Number(delay), jitter: { min: 1, max: 1 } },
    // Its nodes tell no slot length: given, so that no warning line mixes with the JSON lines on stdout.
    slotDuration: "12 seconds"
  }))
)

NodeRuntime.runMain(program)
