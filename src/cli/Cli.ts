/**
 * The `beacon-head-monitor` command: the monitor, and its `simulate` subcommand.
 *
 * @since 0.1.0
 */
import { Command, Options, type Usage } from "@effect/cli"
import { ConfigProvider, Effect } from "effect"
import packageJson from "../../package.json" with { type: "json" }
import { monitorFlags, simulateFlags } from "./Flags.js"
import { StartupError } from "./StartupError.js"

// Each command's module graph (monitor, admin API, metrics, simulator) is loaded when that command runs: `--help`,
// `--version` and a bad flag start without it.
const simulateCommand = Effect.promise(() => import("./SimulateCommand.js"))
const monitorCommand = Effect.promise(() => import("./MonitorCommand.js"))

const simulate = Command.make(
  "simulate",
  { flags: simulateFlags },
  ({ flags }) => Effect.flatMap(simulateCommand, (module) => module.run(flags))
).pipe(
  Command.withDescription(
    "Run only the simulated devnet: beacon nodes on loopback sharing one chain with short slots, restarts, " +
      "silences, skipped slots and short reorgs"
  )
)

/** The root command: the monitor, with `simulate` below it. */
const command = Command.make(
  "beacon-head-monitor",
  { flags: monitorFlags },
  ({ flags }) => Effect.flatMap(monitorCommand, (module) => module.run(flags))
).pipe(
    Command.withDescription(
      "Follow the head of the chain as seen by several beacon nodes; serve the admin API and Prometheus metrics. " +
        "Without --beacon-nodes, an embedded simulated devnet is followed."
    ),
    Command.withSubcommands([simulate])
  )

const namesOf = (usage: Usage.Usage): Array<string> => {
  switch (usage._tag) {
    case "Named":
      return [...usage.names]
    case "Optional":
    case "Repeated":
      return namesOf(usage.usage)
    case "Alternation":
    case "Concat":
      return [...namesOf(usage.left), ...namesOf(usage.right)]
    default:
      return []
  }
}

/** Flags of the root command, and @effect/cli's built-ins (only `--log-level` among them takes a value). */
const rootFlags = new Set(namesOf(Options.getUsage(monitorFlags)))
const switches = new Set(["--help", "-h", "--version", "--wizard"])
const builtInWithValue = new Set(["--completions", "--log-level"])

/**
 * What is wrong with the first argument before the subcommand that is no flag
 * of the root command, if any (@effect/cli would take it for a mistyped
 * subcommand and not name it). Never the argument itself: it may be a URL with a
 * secret in it.
 *
 * @since 0.1.0
 */
export const unknownArgument = (args: ReadonlyArray<string>): string | undefined => {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "simulate") return undefined
    const name = arg.split("=")[0]!
    if (switches.has(name)) continue
    if (rootFlags.has(name) || builtInWithValue.has(name)) {
      if (!arg.includes("=")) i++ // its value
      continue
    }
    return name.startsWith("-")
      ? `unknown flag ${name} (see --help)`
      : `unexpected argument ${i + 1}: flags take the form --name value (see --help)`
  }
  return undefined
}

const cli = Command.run(command, { name: "beacon-head-monitor", version: packageJson.version })

/**
 * Parses `process.argv`-style arguments (runtime and script first) and runs the chosen command.
 *
 * @since 0.1.0
 */
export const run = (argv: ReadonlyArray<string>) => {
  const args = argv.slice(2)
  const unknown = unknownArgument(args)
  if (unknown !== undefined) return Effect.fail(new StartupError({ message: unknown }))
  // @effect/cli applies a --log-level flag itself; LOG_LEVEL (read by our flag) must not override it.
  const flagged = args.some((arg) => arg === "--log-level" || arg.startsWith("--log-level="))
  return flagged
    ? Effect.withConfigProvider(
      cli(argv),
      ConfigProvider.fromMap(new Map(Object.entries(process.env).filter(([key]) => key !== "LOG_LEVEL") as Array<[string, string]>))
    )
    : cli(argv)
}
