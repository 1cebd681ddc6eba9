/** REST answers of a simulated beacon node for health polling and requests, with call counters. */
import type { BeaconNodeServer } from "../../src/simulator/BeaconNodeServer.js"

/** The identifying part of mainnet's `/eth/v1/config/spec`. */
export const mainnet = {
  CONFIG_NAME: "mainnet",
  DEPOSIT_CHAIN_ID: "1",
  DEPOSIT_NETWORK_ID: "1",
  GENESIS_FORK_VERSION: "0x00000000",
  SECONDS_PER_SLOT: "12",
  SLOTS_PER_EPOCH: "32"
}

/** The identifying part of Holesky's spec: another network. */
export const holesky = {
  ...mainnet,
  CONFIG_NAME: "holesky",
  DEPOSIT_CHAIN_ID: "17000",
  DEPOSIT_NETWORK_ID: "17000",
  GENESIS_FORK_VERSION: "0x01017000"
}

export interface Syncing {
  readonly headSlot: number
  readonly syncDistance: number
  readonly optimistic?: boolean
  readonly elOffline?: boolean
}

/** Calls per path, counted by the handlers installed with {@link serve}. */
export type Calls = Map<string, number>

/**
 * Serves `/eth/v1/node/syncing` (503 while `syncing()` is undefined), `/eth/v1/config/spec` and
 * `/eth/v1/beacon/genesis`; returns the call counters.
 */
export const serve = (
  server: BeaconNodeServer,
  syncing: () => Syncing | undefined,
  options: { readonly spec?: Readonly<Record<string, string>>; readonly genesisTime?: number } = {}
): Calls => {
  const calls: Calls = new Map()
  const count = (path: string) => calls.set(path, (calls.get(path) ?? 0) + 1)
  server.route("/eth/v1/node/syncing", () => {
    count("syncing")
    const now = syncing()
    return now === undefined ? { status: 503, body: { code: 503, message: "down" } } : {
      status: 200,
      body: {
        data: {
          head_slot: String(now.headSlot),
          sync_distance: String(now.syncDistance),
          is_syncing: now.syncDistance > 0,
          is_optimistic: now.optimistic ?? false,
          el_offline: now.elOffline ?? false
        }
      }
    }
  })
  server.route("/eth/v1/config/spec", () => {
    count("spec")
    return { status: 200, body: { data: options.spec ?? mainnet } }
  })
  server.route("/eth/v1/beacon/genesis", () => {
    count("genesis")
    return { status: 200, body: { data: { genesis_time: String(options.genesisTime ?? 0) } } }
  })
  return calls
}

/** A synced node at the head of slot 0 (the TestClock's start with genesis 0). */
export const synced = (): Syncing => ({ headSlot: 0, syncDistance: 0 })
