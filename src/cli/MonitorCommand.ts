/**
 * The monitor as a process: follows the beacon nodes given (or an embedded
 * simulated devnet), serves the admin API and `/metrics`, reports on the
 * terminal or in log lines, and stops cleanly on SIGINT/SIGTERM.
 *
 * @since 0.1.0
 */
import { Context, Duration, Effect, Either, Layer, Option, type Scope } from "effect"
import * as AdminApi from "../admin/AdminApi.js"
import * as ArrivalStats from "../arrivals/ArrivalStats.js"
import * as CandidateList from "../candidates/CandidateList.js"
import * as MonitorConfig from "../config/MonitorConfig.js"
import * as SlotClock from "../health/SlotClock.js"
import * as Metrics from "../metrics/Metrics.js"
import * as HeadMonitor from "../monitor/HeadMonitor.js"
import * as RequestOptions from "../node/RequestOptions.js"
import * as NodeClient from "../requests/NodeClient.js"
import * as Devnet from "../simulator/Devnet.js"
import { errorCode } from "../internal/errorCode.js"
import * as Ansi from "./Ansi.js"
import { flagProblem, type MonitorFlags } from "./Flags.js"
import * as Logging from "./Logging.js"
import { Screen } from "./Screen.js"
import { StartupError } from "./StartupError.js"
import * as StatusReporter from "./StatusReporter.js"

/** How long start-up waits for a node to tell the genesis time. */
const genesisTimeout = Duration.seconds(3)

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
 * The slot clock: the monitor's slot length (the flag's, else the chain's own), and genesis from the flag, else
 * from the first node that tells it (0 with a warning if none does in time).
 */
const slotClock = (
  flags: MonitorFlags,
  urls: ReadonlyArray<string>,
  slotDuration: Duration.Duration,
  requests: RequestOptions.RequestOptions
) =>
  Effect.gen(function*() {
    if (Option.isSome(flags.genesisTime)) return SlotClock.make({ genesisTime: flags.genesisTime.value, slotDuration })
    const read = yield* SlotClock.fromNodes(slotDuration).pipe(
      Effect.timeoutFail({ duration: genesisTimeout, onTimeout: () => "no answer in time" }),
      Effect.mapError((error) => typeof error === "string" ? error : error.message),
      Effect.provide(CandidateList.layer(urls)),
      Effect.provide(MonitorConfig.layer({ maxCandidates: urls.length })),
      Effect.provide(RequestOptions.layer(requests)),
      Effect.provide(NodeClient.layer(requests.ca)),
      Effect.either
    )
    if (Either.isRight(read)) return read.right
    yield* Effect.logWarning("cannot read the genesis time from any beacon node; slots are counted from 0 (set --genesis-time)")
      .pipe(Effect.annotateLogs({ reason: read.left }))
    return SlotClock.make({ genesisTime: 0, slotDuration })
  })

/** The headers and CAs of every request to every node, from the flags. */
const requestOptions = (flags: MonitorFlags): RequestOptions.RequestOptions => ({
  headers: Option.getOrElse(flags.beaconNodeHeaders, () => ({})),
  ca: Option.getOrElse(flags.beaconNodesTlsCerts, () => [])
})

/** The tuning given by flags; the rest takes the defaults, the slot-sized ones worked out by the monitor. */
const monitorOptions = (flags: MonitorFlags, maxCandidates: number): MonitorConfig.MonitorOptionsInput => {
  const { defaults } = MonitorConfig
  const jitter = Option.getOrElse(flags.retryJitter, () => defaults.retry.jitter.max - 1)
  return {
    retry: {
      initialDelay: Option.getOrUndefined(flags.retryInitialDelayMs),
      factor: Option.getOrUndefined(flags.retryFactor),
      maxDelay: Option.getOrUndefined(flags.retryMaxDelayMs),
      jitter: { min: 1 - jitter, max: 1 + jitter }
    },
    idleTimeout: Option.getOrUndefined(flags.idleTimeoutMs),
    slotDuration: Option.getOrUndefined(Option.map(flags.secondsPerSlot, Duration.seconds)),
    maxCandidates,
    requests: requestOptions(flags)
  }
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
  const screen = process.stdout.isTTY === true ? new Screen(process.stdout) : undefined
  return Effect.scoped(program(flags, screen, Ansi.colors(process.stdout))).pipe(
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

    const monitor = yield* Layer.build(
      HeadMonitor.layerNode(urls, monitorOptions(flags, maxCandidates)).pipe(
        Layer.mapError((error) =>
          flagError(error._tag === "InvalidCandidateList" ? "beacon-nodes" : "beacon-node-headers", error.message)
        )
      )
    )
    const { idleTimeout, retry, slotDuration } = Context.get(monitor, HeadMonitor.HeadMonitor).options
    const clock = yield* slotClock(flags, urls, slotDuration, requestOptions(flags))
    const admin = AdminApi.layer({
      host: flags.httpAddress,
      port: flags.httpPort,
      tokenFile: Option.getOrUndefined(flags.apiTokenFile)
    }).pipe(
      Layer.mapError((error) =>
        error._tag === "ApiTokenError"
          ? flagError("api-token-file", error.message)
          : error._tag === "PageAssetsError"
          ? new StartupError({ message: error.message })
          : listenError("http-port", flags.httpAddress, flags.httpPort)(error)
      )
    )
    const metrics = Metrics.layerServer({ host: flags.metricsAddress, port: flags.metricsPort }).pipe(
      Layer.mapError(listenError("metrics-port", flags.metricsAddress, flags.metricsPort))
    )
    const context = yield* Layer.build(
      Layer.mergeAll(admin, metrics).pipe(
        Layer.provideMerge(ArrivalStats.layer),
        Layer.provideMerge(Layer.succeedContext(monitor)),
        Layer.provideMerge(Layer.succeed(SlotClock.SlotClock, clock))
      )
    )

    yield* StatusReporter.run({ screen, banner: given === undefined ? simulationBanner : undefined, colors }).pipe(
      Effect.provide(context)
    )
    yield* Effect.logInfo("monitoring").pipe(
      Effect.annotateLogs({
        nodes: urls.length,
        slotSeconds: Duration.toSeconds(slotDuration),
        idleTimeoutMs: Duration.toMillis(idleTimeout),
        retryCapMs: Duration.toMillis(retry.maxDelay),
        admin: Context.get(context, AdminApi.AdminApi).url,
        metrics: `${Context.get(context, Metrics.MetricsServer).url}/metrics`,
        stop: "Ctrl-C or SIGTERM"
      })
    )
    return yield* Effect.never
  })
