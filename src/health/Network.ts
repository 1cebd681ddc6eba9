/**
 * Which network a beacon node is on, from its `/eth/v1/config/spec`, so that
 * a node pointed at another network (a testnet node in a mainnet list) is never
 * asked for duties.
 *
 * The settings compared are the ones that tell networks apart and that every
 * client publishes: `CONFIG_NAME`, `DEPOSIT_CHAIN_ID`, `DEPOSIT_NETWORK_ID`,
 * `GENESIS_FORK_VERSION` (what Lighthouse checks) and the slot length
 * (`SECONDS_PER_SLOT`, `SLOT_DURATION_MS`). A setting missing on either side is
 * not compared, but at least one must be comparable.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * The identifying settings of a network, as strings.
 *
 * @since 0.1.0
 * @category models
 */
export type Network = Readonly<Record<string, string>>

/**
 * @since 0.1.0
 */
export const settings: ReadonlyArray<string> = [
  "CONFIG_NAME",
  "DEPOSIT_CHAIN_ID",
  "DEPOSIT_NETWORK_ID",
  "GENESIS_FORK_VERSION",
  "SECONDS_PER_SLOT",
  "SLOT_DURATION_MS"
]

/**
 * The body of `/eth/v1/config/spec`: every value is kept as it came.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SpecResponse = Schema.Struct({ data: Schema.Record({ key: Schema.String, value: Schema.Unknown }) })

/**
 * The identifying settings of a spec (values longer than 66 characters are ignored: no real one is).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromSpec = (spec: Readonly<Record<string, unknown>>): Network => {
  const network: Record<string, string> = {}
  for (const key of settings) {
    const value = spec[key]
    if ((typeof value === "string" && value.length <= 66) || typeof value === "number") network[key] = String(value)
  }
  return network
}

/**
 * Why `actual` is not the `expected` network, or `undefined` when it is.
 *
 * @since 0.1.0
 */
export const mismatch = (expected: Network, actual: Network): string | undefined => {
  const shared = settings.filter((key) => key in expected && key in actual)
  if (shared.length === 0) return `the spec names none of ${settings.join(", ")}`
  const differing = shared.filter((key) => expected[key] !== actual[key])
  return differing.length === 0
    ? undefined
    : differing.map((key) => `${key} is ${JSON.stringify(actual[key])}, expected ${JSON.stringify(expected[key])}`)
      .join("; ")
}
