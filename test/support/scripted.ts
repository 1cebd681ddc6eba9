/** Running a head monitor over scripted nodes in memory (no socket), on the TestClock. */
import { Effect, Layer } from "effect"
import * as CandidateList from "../../src/candidates/CandidateList.js"
import * as MonitorConfig from "../../src/config/MonitorConfig.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import type { ScriptedNetwork, ScriptedNode } from "../../src/stream/InMemoryTransport.js"

/**
 * One turn of the event loop with no time passing: the fibers run what they can, and what the monitor queued for
 * the end of the turn (`setImmediate`: the events that arrived in it) is handled.
 */
const turn: Effect.Effect<void> = Effect.zipRight(
  Effect.repeatN(Effect.yieldNow(), 20),
  Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
)

/**
 * Lets everything run that can without time passing: with scripted nodes nothing waits on I/O, so a bounded
 * number of turns is enough.
 */
export const settle: Effect.Effect<void> = Effect.asVoid(Effect.repeatN(turn, 10))

/** Turns the event loop until `check` gives a value other than `undefined`/`false`; dies naming `what` if never. */
export const eventually = <A, E, R>(what: string, check: Effect.Effect<A | undefined | false, E, R>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 200; i++) {
      const value = yield* check
      if (value !== undefined && value !== false) return value
      yield* turn
    }
    return yield* Effect.dieMessage(`never happened: ${what}`)
  })

/** The monitor (and its candidate list) following `nodes`, every request answered by `network`. */
export const scriptedMonitor = (
  network: ScriptedNetwork,
  nodes: ReadonlyArray<ScriptedNode>,
  options: MonitorConfig.MonitorOptionsInput = {}
) =>
  HeadMonitor.layer.pipe(
    Layer.provideMerge(CandidateList.layer(nodes.map((node) => node.url))),
    Layer.provide(MonitorConfig.layer(options)),
    Layer.provide(network.layer)
  )
