/** Running a head monitor over scripted nodes in memory (no socket), on the TestClock. */
import { Effect, Layer } from "effect"
import * as CandidateList from "../../src/candidates/CandidateList.js"
import * as MonitorConfig from "../../src/config/MonitorConfig.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import type { ScriptedNetwork, ScriptedNode } from "../../src/stream/InMemoryTransport.js"

/**
 * Lets every fiber run what it can without time passing: with scripted nodes nothing waits on I/O, so a bounded
 * number of yields is enough.
 */
export const settle: Effect.Effect<void> = Effect.asVoid(Effect.repeatN(Effect.yieldNow(), 200))

/** Yields until `check` gives a value other than `undefined`/`false`; dies naming `what` if it never does. */
export const eventually = <A, E, R>(what: string, check: Effect.Effect<A | undefined | false, E, R>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 2_000; i++) {
      const value = yield* check
      if (value !== undefined && value !== false) return value
      yield* Effect.yieldNow()
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
