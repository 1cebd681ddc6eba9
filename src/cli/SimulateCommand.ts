/**
 * `beacon-head-monitor simulate`: the simulated devnet alone, for tests and
 * other tools. Logs the nodes' URLs once they listen, runs until SIGINT/SIGTERM.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import * as Devnet from "../simulator/Devnet.js"
import type { SimulateFlags } from "./Flags.js"
import * as Logging from "./Logging.js"
import { StartupError } from "./StartupError.js"

/**
 * Runs until interrupted; fails only when a node cannot listen.
 *
 * @since 0.1.0
 * @category constructors
 */
export const run = (flags: SimulateFlags): Effect.Effect<void, StartupError> =>
  Effect.gen(function*() {
    const devnet = yield* Devnet.make({
      nodes: flags.nodes,
      basePort: flags.basePort,
      secondsPerSlot: flags.secondsPerSlot,
      faults: !flags.noFaults
    }).pipe(Effect.mapError((error) => new StartupError({ message: error.message })))
    yield* Effect.logInfo("simulated devnet running").pipe(
      Effect.annotateLogs({
        urls: devnet.urls.join(","),
        secondsPerSlot: devnet.secondsPerSlot,
        genesisTime: devnet.genesisTime,
        faults: !flags.noFaults
      })
    )
    yield* Effect.logInfo(`monitor it with: beacon-head-monitor --beacon-nodes ${devnet.urls.join(",")}`)
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    Effect.onInterrupt(() => Effect.logInfo("stopped: the simulated devnet is closed")),
    Effect.provide(Logging.layerProcess({ format: flags.logFormat, level: flags.logLevel, screen: undefined }))
  )
