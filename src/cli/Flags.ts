/**
 * The command-line flags, in the style of Lighthouse's validator client.
 *
 * Every flag `--foo-bar` falls back to the environment variable `FOO_BAR`
 * (`--beacon-nodes` → `BEACON_NODES`); a flag given on the command line wins.
 * A bad value, from either place, fails at start-up with one line naming it.
 *
 * @since 0.1.0
 */
import { HelpDoc, Options, ValidationError } from "@effect/cli"
import { Config, Effect, Either, LogLevel, type Option, type Redacted } from "effect"
import { readFileSync } from "node:fs"
import { errorCode } from "../internal/errorCode.js"
import { isPem, parseHeaders } from "../node/RequestOptions.js"

/**
 * How log lines are written: `pretty` (coloured, for people), `logfmt` or `json` (for machines).
 *
 * @since 0.1.0
 * @category models
 */
export type LogFormat = "pretty" | "logfmt" | "json"

/** The flag's environment variable: `--http-port` → `HTTP_PORT`. */
export const envName = (flag: string): string => flag.replace(/-/g, "_").toUpperCase()

/** What is wrong with a flag, naming it and its environment variable: the one line a bad start-up prints. */
export const flagProblem = (flag: string, message: string): string => `--${flag} (or ${envName(flag)}): ${message}`

const invalid = (flag: string, message: string) => ValidationError.invalidValue(HelpDoc.p(flagProblem(flag, message)))

const text = (flag: string, description: string, placeholder: string) =>
  Options.text(flag).pipe(
    Options.withFallbackConfig(Config.string(envName(flag))),
    Options.withDescription(`${description} [env ${envName(flag)}]`),
    Options.withPseudoName(placeholder)
  )

const number = (
  flag: string,
  description: string,
  check: { readonly min: number; readonly max: number; readonly integer: boolean },
  placeholder = "N"
) =>
  // Parsed here rather than with Options.integer so that a bad value, flag or env, gets the same one-line message.
  text(flag, description, placeholder).pipe(
    Options.mapEffect((raw) => {
      const value = raw.trim() === "" ? Number.NaN : Number(raw)
      const kind = check.integer ? "an integer" : "a number"
      if (!Number.isFinite(value) || (check.integer && !Number.isInteger(value))) {
        return Effect.fail(invalid(flag, `${JSON.stringify(raw.slice(0, 40))} is not ${kind}`))
      }
      if (value < check.min || value > check.max) {
        return Effect.fail(invalid(flag, `${value} is outside ${check.min}..${check.max}`))
      }
      return Effect.succeed(value)
    })
  )

const port = (flag: string, description: string, fallback: number) =>
  number(flag, `${description} (default ${fallback})`, { min: 0, max: 65535, integer: true }, "PORT").pipe(
    Options.withDefault(fallback)
  )

const millis = (flag: string, description: string) =>
  Options.optional(number(flag, description, { min: 1, max: 24 * 3600 * 1000, integer: true }, "MS"))

const address = (flag: string, what: string) =>
  text(flag, `Address of ${what} (default 127.0.0.1)`, "ADDRESS").pipe(Options.withDefault("127.0.0.1"))

const choice = <A extends string>(flag: string, description: string, values: ReadonlyArray<A>, placeholder: string) =>
  text(flag, `${description}: ${values.join(", ")}`, placeholder).pipe(
    Options.mapEffect((raw) => {
      const value = values.find((v) => v === raw.trim().toLowerCase())
      return value === undefined
        ? Effect.fail(invalid(flag, `${JSON.stringify(raw.slice(0, 40))} is not one of ${values.join(", ")}`))
        : Effect.succeed(value)
    })
  )

/** The levels of @effect/cli's built-in `--log-level` (which takes the flag itself), and two aliases. */
const logLevels: Record<string, LogLevel.LogLevel> = {
  ...Object.fromEntries(LogLevel.allLevels.map((level) => [level._tag.toLowerCase(), level])),
  warn: LogLevel.Warning,
  off: LogLevel.None
}

// On the command line, @effect/cli's built-in --log-level (same levels) takes the flag; this reads LOG_LEVEL.
const logLevel = Options.optional(
  choice("log-level", "Least level logged (default info)", Object.keys(logLevels), "LEVEL").pipe(
    Options.map((name) => logLevels[name]!)
  )
)

/**
 * Where the monitor listens, how it logs, and the tuning of its streams.
 * Tuning values left unset are derived from the slot duration (see `MonitorRun`).
 *
 * @since 0.1.0
 * @category models
 */
export interface MonitorFlags {
  /** The comma-separated list as given, not validated yet (that needs `maxCandidates`). */
  readonly beaconNodes: Option.Option<string>
  readonly httpAddress: string
  readonly httpPort: number
  readonly apiTokenFile: Option.Option<string>
  readonly metricsAddress: string
  readonly metricsPort: number
  readonly logFormat: Option.Option<LogFormat>
  /** From `LOG_LEVEL`; the flag itself is applied by @effect/cli around the whole run. */
  readonly logLevel: Option.Option<LogLevel.LogLevel>
  readonly secondsPerSlot: Option.Option<number>
  readonly genesisTime: Option.Option<number>
  readonly retryInitialDelayMs: Option.Option<number>
  readonly retryFactor: Option.Option<number>
  readonly retryMaxDelayMs: Option.Option<number>
  readonly retryJitter: Option.Option<number>
  readonly idleTimeoutMs: Option.Option<number>
  readonly maxCandidates: Option.Option<number>
  /** The PEM text of every file of `--beacon-nodes-tls-certs`. */
  readonly beaconNodesTlsCerts: Option.Option<ReadonlyArray<string>>
  /** `--beacon-node-headers`, values redacted. */
  readonly beaconNodeHeaders: Option.Option<Readonly<Record<string, Redacted.Redacted<string>>>>
}

/** Reads every CA file of the flag: one that cannot be read or holds no PEM certificate is named. */
const caFiles = (flag: string, description: string) =>
  text(flag, description, "PATH[,PATH]").pipe(
    Options.mapEffect((raw) =>
      Effect.forEach(raw.split(",").map((path) => path.trim()).filter((path) => path !== ""), (path) =>
        Effect.suspend(() => {
          let content: string
          try {
            content = readFileSync(path, "utf8")
          } catch (error) {
            return Effect.fail(invalid(flag, `cannot read ${path} (${errorCode(error) ?? "unreadable"})`))
          }
          return isPem(content)
            ? Effect.succeed(content)
            : Effect.fail(invalid(flag, `${path} holds no PEM certificate`))
        }))
    )
  )

/** `NAME=VALUE[,NAME=VALUE]`: a problem names the entry or the header, never a value. */
const headers = (flag: string, description: string) =>
  text(flag, description, "NAME=VALUE[,NAME=VALUE]").pipe(
    Options.mapEffect((raw) =>
      Either.match(parseHeaders(raw), {
        onLeft: (problem) => Effect.fail(invalid(flag, problem)),
        onRight: Effect.succeed
      })
    )
  )

/**
 * The flags of the monitor (the root command).
 *
 * @since 0.1.0
 * @category options
 */
export const monitorFlags: Options.Options<MonitorFlags> = Options.all({
  beaconNodes: Options.optional(text(
    "beacon-nodes",
    "Comma-separated beacon node URLs, in order of preference. Without it, an embedded simulated devnet is started",
    "URL,URL"
  )),
  httpAddress: address("http-address", "the admin HTTP API"),
  httpPort: port("http-port", "Port of the admin HTTP API", 5062),
  apiTokenFile: Options.optional(text(
    "api-token-file",
    "File holding the admin API's bearer token; if absent a token is generated there (default api-token.txt)",
    "PATH"
  )),
  metricsAddress: address("metrics-address", "the Prometheus /metrics endpoint"),
  metricsPort: port("metrics-port", "Port of the Prometheus /metrics endpoint", 5064),
  logFormat: Options.optional(choice(
    "log-format",
    "Log format (default pretty with a live status table on a terminal, logfmt otherwise)",
    ["pretty", "logfmt", "json"] as const,
    "FORMAT"
  )),
  logLevel,
  secondsPerSlot: Options.optional(number(
    "seconds-per-slot",
    "Slot duration in seconds; overrides the beacon nodes' /eth/v1/config/spec",
    { min: 1, max: 3600, integer: true },
    "SECONDS"
  )),
  genesisTime: Options.optional(number(
    "genesis-time",
    "Genesis time in Unix seconds; overrides the beacon nodes' /eth/v1/beacon/genesis",
    { min: 0, max: 2 ** 40, integer: true },
    "UNIX_SECONDS"
  )),
  retryInitialDelayMs: millis("retry-initial-delay-ms", "First reconnect delay after a failure (default 250)"),
  retryFactor: Options.optional(number(
    "retry-factor",
    "Growth of the reconnect delay per consecutive failure (default 2)",
    { min: 1, max: 100, integer: false }
  )),
  retryMaxDelayMs: millis("retry-max-delay-ms", "Cap of the reconnect delay (default half a slot)"),
  retryJitter: Options.optional(number(
    "retry-jitter",
    "Each delay is multiplied by a random factor in [1-j, 1+j] (default 0.2)",
    { min: 0, max: 0.99, integer: false }
  )),
  idleTimeoutMs: millis("idle-timeout-ms", "Drop and reconnect a stream silent for this long (default 3 slots)"),
  maxCandidates: Options.optional(number(
    "max-candidates",
    "Most beacon nodes the list may hold (default 64)",
    { min: 1, max: 10_000, integer: true }
  )),
  beaconNodesTlsCerts: Options.optional(caFiles(
    "beacon-nodes-tls-certs",
    "Comma-separated PEM files of CA certificates trusted for HTTPS beacon nodes, besides the system's"
  )),
  beaconNodeHeaders: Options.optional(headers(
    "beacon-node-headers",
    "Comma-separated headers sent with every request to every beacon node, e.g. " +
      "X-Api-Key=KEY or Authorization=Bearer TOKEN (values are secrets: never logged or shown)"
  ))
})

/**
 * Settings of the `simulate` subcommand.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulateFlags {
  readonly nodes: number
  /** First port; node i listens on basePort + i. 0 picks free ports. */
  readonly basePort: number
  readonly secondsPerSlot: number
  /** Without faults: no restarts, no silence, no skipped slots, no reorgs. */
  readonly noFaults: boolean
  readonly logFormat: Option.Option<LogFormat>
  /** From `LOG_LEVEL`, as the monitor's. */
  readonly logLevel: Option.Option<LogLevel.LogLevel>
}

/**
 * The flags of `simulate`.
 *
 * @since 0.1.0
 * @category options
 */
export const simulateFlags: Options.Options<SimulateFlags> = Options.all({
  nodes: number("nodes", "Number of simulated beacon nodes (default 3)", { min: 1, max: 64, integer: true }).pipe(
    Options.withDefault(3)
  ),
  basePort: port("base-port", "Port of the first node, the others follow; 0 picks free ports", 0),
  secondsPerSlot: number("seconds-per-slot", "Slot duration of the simulated chain in seconds (default 2)", {
    min: 1,
    max: 3600,
    integer: true
  }, "SECONDS").pipe(Options.withDefault(2)),
  noFaults: Options.boolean("no-faults").pipe(
    Options.withDescription("A calm devnet: no restarts, no silent node, no skipped slots, no reorgs")
  ),
  logFormat: Options.optional(choice("log-format", "Log format", ["pretty", "logfmt", "json"] as const, "FORMAT")),
  logLevel
})
