/**
 * The `beacon-head-monitor` command: the monitor, and its `simulate` subcommand.
 *
 * @since 0.1.0
 */
import { Command } from "@effect/cli"
import packageJson from "../../package.json" with { type: "json" }
import { monitorFlags, simulateFlags } from "./Flags.js"
import * as MonitorCommand from "./MonitorCommand.js"
import * as SimulateCommand from "./SimulateCommand.js"

const simulate = Command.make("simulate", { flags: simulateFlags }, ({ flags }) => SimulateCommand.run(flags)).pipe(
  Command.withDescription(
    "Run only the simulated devnet: beacon nodes on loopback sharing one chain with short slots, restarts, " +
      "silences, skipped slots and short reorgs"
  )
)

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("beacon-head-monitor", { flags: monitorFlags }, ({ flags }) => MonitorCommand.run(flags)).pipe(
  Command.withDescription(
    "Follow the head of the chain as seen by several beacon nodes; serve the admin API and Prometheus metrics. " +
      "Without --beacon-nodes, an embedded simulated devnet is followed."
  ),
  Command.withSubcommands([simulate])
)

/**
 * Parses `process.argv`-style arguments and runs the chosen command.
 *
 * @since 0.1.0
 */
export const run = Command.run(command, { name: "beacon-head-monitor", version: packageJson.version })
