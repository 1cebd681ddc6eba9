/**
 * The monitor as a process: follows the beacon nodes given (or an embedded
 * simulated devnet), serves the admin API and `/metrics`, reports on the
 * terminal or in log lines, and stops cleanly on SIGINT/SIGTERM.
 *
 * @since 0.1.0
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Context, Duration, Effect, Either, Layer, Option, type Scope } from "effect"
import * as AdminApi from "../admin/AdminApi.js"
import * as CandidateList from "../candidates/CandidateList.js"
import * as MonitorConfig from "../config/MonitorConfig.js"
import * as SlotClock from "../health/SlotClock.js"
import * as Metrics from "../metrics/Metrics.js"
import * as HeadMonitor from "../monitor/HeadMonitor.js"
import * as Devnet from "../simulator/Devnet.js"
import { errorCode } from "../internal/errorCode.js"
import { flagProblem, type MonitorFlags } from "./Flags.js"
import * as Logging from "./Logging.js"
import { Screen } from "./Screen.js"
import { StartupError } from "./StartupError.js"
import * as StatusReporter from "./StatusReporter.js"

/** Slot duration assumed when neither a flag nor any node tells it: mainnet's. */
const fallbackSecondsPerSlot = 12
/** How long start-up waits for a node to tell the slot timing. */
const slotTimingTimeout = Duration.seconds(3)

const flagError = (flag: string, message: string) => new StartupError({ message: flagProblem(flag, message) })

/**
 * Splits and validates `--beacon-nodes` into normalised URLs: every wrong entry
 * named in one line, secrets removed.
 *
 * @since 0.1.0
 */
export const parseBeaconNodes = (raw: string, max: number): Effect.Effect<Array<string>, StartupError> =>
  Either.match(CandidateList.validate(raw.split(",").map((url) => url.trim()), max), {
    onLeft: (error) => Effect.fail(flagError("beacon-nodes", error.message)),
    onRight: (nodes) => Effect.succeed(nodes.map((node) => node.id as string))
  })

/**
 * The slot clock: both overrides given, or read from the nodes (either override
 * still wins over what they say), or mainnet's 12 s slots if no node answers in time.
 */
const slotClock = (flags: MonitorFlags, urls: ReadonlyArray<string>, maxCandidates: number) =>
  Effect.gen(function*() {
    if (Option.isSome(flags.secondsPerSlot) && Option.isSome(flags.genesisTime)) {
      return SlotClock.make({
        genesisTime: flags.genesisTime.value,
        slotDuration: Duration.seconds(flags.secondsPerSlot.value)
      })
    }
    const read = yield* SlotClock.fromNodes.pipe(
      Effect.timeoutFail({ duration: slotTimingTimeout, onTimeout: () => "no answer in time" }),
      Effect.mapError((error) => typeof error === "string" ? error : error.message),
      Effect.provide(CandidateList.layer(urls)),
      Effect.provide(MonitorConfig.layer({ maxCandidates })),
      Effect.provide(NodeHttpClient.layer),
      Effect.either
    )
    if (Either.isLeft(read)) {
      yield* Effect.logWarning(
        "cannot read the slot timing from any beacon node; assuming 12 s slots (set --seconds-per-slot and --genesis-time)"
      ).pipe(Effect.annotateLogs({ reason: read.left }))
    }
    const fromNodes = Either.getRight(read)
    return SlotClock.make({
      genesisTime: Option.getOrElse(
        flags.genesisTime,
        () => Option.match(fromNodes, { onNone: () => 0, onSome: (clock) => clock.genesis / 1000 })
      ),
      slotDuration: Option.match(flags.secondsPerSlot, {
        onSome: Duration.seconds,
        onNone: () =>
          Option.match(fromNodes, {
            onNone: () => Duration.seconds(fallbackSecondsPerSlot),
            onSome: (clock) => clock.slotDuration
          })
      })
    })
  })

/** The tuning: flags where given, else the defaults, with the slot-sized ones scaled to the actual slot. */
const monitorOptions = (
  flags: MonitorFlags,
  slot: Duration.Duration,
  maxCandidates: number
): MonitorConfig.MonitorOptions => {
  const { defaults } = MonitorConfig
  const ms = (value: Option.Option<number>, fallback: Duration.Duration) =>
    Option.match(value, { onNone: () => fallback, onSome: Duration.millis })
  const jitter = Option.getOrElse(flags.retryJitter, () => defaults.retry.jitter.max - 1)
  return MonitorConfig.make({
    retry: {
      initialDelay: ms(flags.retryInitialDelayMs, defaults.retry.initialDelay),
      factor: Option.getOrElse(flags.retryFactor, () => defaults.retry.factor),
      maxDelay: ms(flags.retryMaxDelayMs, Duration.times(slot, 0.5)),
      jitter: { min: 1 - jitter, max: 1 + jitter }
    },
    idleTimeout: ms(flags.idleTimeoutMs, Duration.times(slot, 3)),
    maxCandidates
  })
}

const listenError = (flag: string, address: string, port: number) => (error: unknown) => {
  const code = errorCode(error)
  return flagError(flag, `cannot listen on ${address}:${port}${code === undefined ? "" : ` (${code})`}`)
}

const simulationBanner = "SIMULATED DEVNET"

/**
 * Runs until interrupted. Fails only at start-up, with a one-line `StartupError`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const run = (flags: MonitorFlags): Effect.Effect<void, StartupError> => {
  const tty = process.stdout.isTTY === true
  const screen = tty ? new Screen(process.stdout) : undefined
  return Effect.scoped(program(flags, screen, tty)).pipe(
    // After the scope: every stream, server and simulated node is closed by now.
    Effect.onInterrupt(() => Effect.logInfo("stopped: every stream and server is closed")),
    Effect.provide(Logging.layerProcess({ format: flags.logFormat, level: flags.logLevel, screen }))
  )
}

const program = (
  flags: MonitorFlags,
  screen: Screen | undefined,
  colors: boolean
): Effect.Effect<void, StartupError, Scope.Scope> =>
  Effect.gen(function*() {
    const maxCandidates = Option.getOrElse(flags.maxCandidates, () => MonitorConfig.defaults.maxCandidates)
    const given = yield* Option.match(flags.beaconNodes, {
      onNone: () => Effect.succeed(undefined),
      onSome: (raw) => parseBeaconNodes(raw, maxCandidates)
    })
    let urls: ReadonlyArray<string>
    if (given === undefined) {
      const devnet = yield* Devnet.make().pipe(
        Effect.mapError((error) => new StartupError({ message: error.message }))
      )
      urls = devnet.urls
      yield* Effect.logWarning(
        `THIS IS A SIMULATION: no --beacon-nodes given, so ${urls.length} simulated beacon nodes run in this process ` +
          `(${devnet.secondsPerSlot} s slots, with restarts, silences, skipped slots and reorgs)`
      ).pipe(Effect.annotateLogs({ simulated: urls.join(",") }))
      yield* Effect.logWarning(
        "to follow real beacon nodes: --beacon-nodes http://localhost:5052,http://other:5052 (or BEACON_NODES=...)"
      )
    } else {
      urls = given
    }

    const clock = yield* slotClock(flags, urls, maxCandidates)
    const options = monitorOptions(flags, clock.slotDuration, maxCandidates)

    const monitor = HeadMonitor.layerNode(urls, options).pipe(
      Layer.mapError((error) => flagError("beacon-nodes", error.message))
    )
    const admin = AdminApi.layer({
      host: flags.httpAddress,
      port: flags.httpPort,
      tokenFile: Option.getOrUndefined(flags.apiTokenFile)
    }).pipe(
      Layer.mapError((error) =>
        error._tag === "ApiTokenError"
          ? flagError("api-token-file", error.message)
          : listenError("http-port", flags.httpAddress, flags.httpPort)(error)
      )
    )
    const metrics = Metrics.layerServer({ host: flags.metricsAddress, port: flags.metricsPort }).pipe(
      Layer.mapError(listenError("metrics-port", flags.metricsAddress, flags.metricsPort))
    )
    const context = yield* Layer.build(
      Layer.mergeAll(admin, metrics).pipe(
        Layer.provideMerge(monitor),
        Layer.provideMerge(SlotClock.layer({ genesisTime: clock.genesis / 1000, slotDuration: clock.slotDuration }))
      )
    )

    yield* StatusReporter.run({ screen, banner: given === undefined ? simulationBanner : undefined, colors }).pipe(
      Effect.provide(context)
    )
    yield* Effect.logInfo("monitoring").pipe(
      Effect.annotateLogs({
        nodes: urls.length,
        slotSeconds: Duration.toSeconds(clock.slotDuration),
        admin: Context.get(context, AdminApi.AdminApi).url,
        metrics: `${Context.get(context, Metrics.MetricsServer).url}/metrics`,
        stop: "Ctrl-C or SIGTERM"
      })
    )
    return yield* Effect.never
  })
