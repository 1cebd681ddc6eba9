/**
 * A small devnet for the fault suite: several scripted beacon nodes on
 * loopback, a head monitor following them, a slot ticker and a recorder of
 * what the monitor delivered, with the measurements every fault reports.
 *
 * Time is real: slots are short (`FAULT_SLOT_MS`, default 400 ms, so that with
 * the stall limit at 4 slots a busy 2-core machine holding the event loop back
 * for most of a second does not look like a stalled node) and each fault lasts
 * `FAULT_SLOTS` slots (default 5; `npm run test:faults` runs more).
 */
import { Context, Effect, Fiber, Layer, Scope, Stream } from "effect"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { CandidateList } from "../../src/candidates/CandidateList.js"
import type { MonitorOptionsInput } from "../../src/config/MonitorConfig.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import type { NodeStatus } from "../../src/monitor/NodeStatus.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { headData } from "../support/chain.js"

const envNumber = (name: string, fallback: number): number => {
  const value = Number(process.env[name])
  return Number.isFinite(value) && value > 0 ? value : fallback
}

/** Length of a slot and of each fault, from the environment. */
export const settings = {
  slotMs: envNumber("FAULT_SLOT_MS", 400),
  slots: envNumber("FAULT_SLOTS", 5),
  nodes: 4
}

/** The monitor's tuning in the suite: the mainnet defaults scaled to the short slot. */
export const monitorOptions: MonitorOptionsInput = {
  retry: { initialDelay: settings.slotMs / 4, factor: 2, maxDelay: settings.slotMs * 2, jitter: { min: 0.8, max: 1.2 } },
  idleTimeout: settings.slotMs * 4,
  maxEventSize: 64 * 1024
}

setFlagsFromString("--expose-gc")
/** A full garbage collection, so that heap figures compare live data only. */
const gc = runInNewContext("gc") as () => void

/** Live heap after a full collection, in MiB. */
export const heapMiB = (): number => {
  gc()
  gc()
  return process.memoryUsage().heapUsed / 2 ** 20
}

/** What a node's server writes each slot: a head by default; faults replace it. */
export type Emitter = (server: BeaconNodeServer.BeaconNodeServer, slot: number) => void

const emitHead: Emitter = (server, slot) => {
  server.send("head", headData(slot))
}

/** Polls `condition` every 2 ms; fails after `timeoutMs`. */
export const waitUntil = (condition: () => boolean, timeoutMs: number, what: string): Effect.Effect<number> =>
  Effect.gen(function*() {
    const start = performance.now()
    while (!condition()) {
      if (performance.now() - start > timeoutMs) return yield* Effect.dieMessage(`timed out after ${timeoutMs} ms: ${what}`)
      yield* Effect.sleep(2)
    }
    return performance.now() - start
  })

/** Connections made and lost by a node, from its status counters. */
export const reconnectsOf = (status: NodeStatus): { readonly connects: number; readonly disconnects: number } => ({
  connects: status.counters.connects,
  disconnects: Object.values(status.counters.disconnects).reduce((a, b) => a + b, 0)
})

/**
 * The running devnet. `servers[i]` is node `i` of the list; `emitters[i]` is
 * what the ticker makes it send each slot.
 */
export interface Devnet {
  readonly servers: Array<BeaconNodeServer.BeaconNodeServer>
  readonly emitters: Array<Emitter>
  readonly monitor: HeadMonitor.HeadMonitorService
  readonly update: (urls: ReadonlyArray<string>) => Effect.Effect<void>
  /** Heads delivered by the monitor, per node URL (a server's `url` is its node's id). */
  readonly received: Map<string, number>
  /** When the monitor first delivered a head from the node at or after `from` (performance.now()). */
  readonly firstHeadAfter: (url: string, from: number) => number | undefined
  /** The slot the ticker last sent. */
  readonly slot: () => number
  /** Stops the slot ticker (so that sent and received can settle). */
  readonly stopTicker: Effect.Effect<void>
  /** Starts a fresh scripted node on loopback. */
  readonly newServer: Effect.Effect<BeaconNodeServer.BeaconNodeServer>
}

const arrivalsKept = 256

/** Heads the server wrote to open streams. */
export const sentOf = (server: BeaconNodeServer.BeaconNodeServer): number => server.sent.get("head") ?? 0

/**
 * Starts `settings.nodes` servers and a monitor following them, a ticker that
 * makes every server emit once a slot, and waits until every node delivered.
 */
export const devnet: Effect.Effect<Devnet, never, Scope.Scope> = Effect.gen(function*() {
  const scope = yield* Effect.scope
  const servers = yield* Effect.orDie(Effect.all(Array.from({ length: settings.nodes }, () => BeaconNodeServer.make())))
  const emitters: Array<Emitter> = servers.map(() => emitHead)
  const context = yield* Effect.orDie(Layer.build(HeadMonitor.layerNode(servers.map((s) => s.url), monitorOptions)))
  const monitor = Context.get(context, HeadMonitor.HeadMonitor)
  const candidates = Context.get(context, CandidateList)
  const received = new Map<string, number>()
  // The last arrival times of each node, enough to find the first one after a fault healed.
  const arrivals = new Map<string, Array<number>>()
  const heads = yield* monitor.subscribe
  yield* Stream.runForEach(heads, (event) =>
    Effect.sync(() => {
      received.set(event.node.id, (received.get(event.node.id) ?? 0) + 1)
      const times = arrivals.get(event.node.id) ?? []
      if (times.length === arrivalsKept) times.shift()
      times.push(performance.now())
      arrivals.set(event.node.id, times)
    })).pipe(Effect.forkScoped)
  let slot = 0
  const ticker = yield* Effect.gen(function*() {
    while (true) {
      slot++
      servers.forEach((server, i) => emitters[i]!(server, slot))
      yield* Effect.sleep(settings.slotMs)
    }
  }).pipe(Effect.forkScoped)
  yield* waitUntil(() => servers.every((s) => (received.get(s.url) ?? 0) > 0), 5_000, "every node delivers")
  return {
    servers,
    emitters,
    monitor,
    update: (next) => Effect.orDie(Effect.asVoid(candidates.update(next))),
    received,
    firstHeadAfter: (url, from) => arrivals.get(url)?.find((at) => at >= from),
    slot: () => slot,
    stopTicker: Fiber.interrupt(ticker),
    newServer: Effect.orDie(Scope.extend(BeaconNodeServer.make(), scope))
  }
})
