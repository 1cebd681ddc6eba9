/**
 * An embedded simulated devnet: several simulated beacon nodes on loopback
 * (real HTTP servers, see `BeaconNodeServer`) that share one chain with short
 * slots, so that the monitor can be run and shown without a real node.
 *
 * Each node sees each head with its own small delay. With faults on (the
 * default), one node restarts every so often (its connections drop, it refuses
 * connections for a moment, then replays a burst of old heads as a re-syncing
 * node does), one node goes silent now and then (stream open, nothing sent, its
 * head falls behind), and now and then a slot is skipped or a short reorg
 * happens (`head` on the new fork first, then `chain_reorg`, sometimes the head
 * again, as Lodestar does).
 *
 * Each node can also be restarted on request, faults or not: `restart`, or
 * `POST /simulator/restart?down_ms=N` on the node itself (how a test stops a
 * node of the devnet that a monitor process embeds).
 *
 * All timing goes through the effect `Clock`, so it runs under `TestClock`.
 *
 * @since 0.1.0
 */
import { Context, Duration, Effect, Layer, Queue, Random, Schedule, type Scope } from "effect"
import * as BeaconNodeServer from "./BeaconNodeServer.js"
import {
  chainReorgData,
  genesisValidatorsRoot,
  headerResponse,
  headEventData,
  SimulatedChain,
  type SimulatedBlock,
  type SimulatedReorg
} from "./SimulatedChain.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface DevnetOptions {
  /** Number of nodes (default 3). */
  readonly nodes?: number
  /** Port of the first node, the others follow; 0 (default) picks free ports. */
  readonly basePort?: number
  /** Slot duration in whole seconds (default 2). */
  readonly secondsPerSlot?: number
  /** Slots per epoch (default 8, the minimal preset). */
  readonly slotsPerEpoch?: number
  /** Restarts, silence, skipped slots and reorgs (default true). */
  readonly faults?: boolean
  /** The restarting node restarts at every multiple of this slot (default 15). */
  readonly restartEvery?: number
  /** How long a restarting node refuses connections (default 1.8 s, as a real node). */
  readonly restartDowntime?: Duration.DurationInput
  /** The silent node goes silent at every multiple of this slot, offset by half (default 20). */
  readonly silenceEvery?: number
  /** Slots of silence (default 5). */
  readonly silenceFor?: number
  /** Chance that a slot has no block (default 0.07). */
  readonly skipProbability?: number
  /** Chance that a slot's block reorgs the head (default 0.05). */
  readonly reorgProbability?: number
  /** Heads a restarted node replays to its first subscriber (default 8). */
  readonly replayOnRestart?: number
}

/**
 * The state of one simulated node, readable by tests and the status line.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatedNode {
  readonly index: number
  readonly server: BeaconNodeServer.BeaconNodeServer
  /** The node's current head: the last block it saw. */
  readonly head: SimulatedBlock
  /** `down` while restarting, `silent` while silent. */
  readonly condition: "up" | "down" | "silent"
}

/**
 * @since 0.1.0
 * @category models
 */
export interface DevnetService {
  /** Base URLs of the nodes, in order. */
  readonly urls: ReadonlyArray<string>
  readonly nodes: ReadonlyArray<SimulatedNode>
  /** Unix seconds of slot 0. */
  readonly genesisTime: number
  readonly secondsPerSlot: number
  readonly slotsPerEpoch: number
  /** The canonical head. */
  readonly head: Effect.Effect<SimulatedBlock>
  /** Restarts node `index` now, down for `downtime` (as the restarting node does); answers once it is back. */
  readonly restart: (index: number, downtime: Duration.DurationInput) => Effect.Effect<void>
}

/**
 * The path a simulated node answers `POST` on to restart itself (`?down_ms=N`, default 1,800).
 *
 * @since 0.1.0
 */
export const restartPath = "/simulator/restart"

/**
 * @since 0.1.0
 * @category tags
 */
export class Devnet extends Context.Tag("beacon-head-monitor/Devnet")<Devnet, DevnetService>() {}

/** Base delay (ms) of node i before it sees a head; a random 0–30 ms is added per head. */
const baseDelay = (index: number): number => 4 + 18 * index

class Node implements SimulatedNode {
  head: SimulatedBlock
  condition: "up" | "down" | "silent" = "up"
  silentUntil = -1
  /** Set by a restart: the next subscriber first gets a burst of old heads. */
  replayPending = false

  constructor(readonly index: number, readonly server: BeaconNodeServer.BeaconNodeServer, head: SimulatedBlock) {
    this.head = head
  }
}

/**
 * Starts the devnet; it stops (servers closed, timers interrupted) when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: DevnetOptions = {}): Effect.Effect<DevnetService, BeaconNodeServer.ListenError, Scope.Scope> =>
  Effect.gen(function*() {
    const count = options.nodes ?? 3
    const secondsPerSlot = options.secondsPerSlot ?? 2
    const slotsPerEpoch = options.slotsPerEpoch ?? 8
    const faults = options.faults ?? true
    const restartEvery = options.restartEvery ?? 15
    const silenceEvery = options.silenceEvery ?? 20
    const silenceFor = options.silenceFor ?? 5
    const skipProbability = options.skipProbability ?? 0.07
    const reorgProbability = options.reorgProbability ?? 0.05
    const replayOnRestart = options.replayOnRestart ?? 8
    const downtime = Duration.decode(options.restartDowntime ?? Duration.millis(1800))
    const slotMillis = secondsPerSlot * 1000

    const clock = yield* Effect.clock
    const genesisTime = Math.floor(clock.unsafeCurrentTimeMillis() / 1000)
    const slotStart = (slot: number) => genesisTime * 1000 + slot * slotMillis
    const currentSlot = () => Math.max(0, Math.floor((clock.unsafeCurrentTimeMillis() - genesisTime * 1000) / slotMillis))
    const chain = new SimulatedChain()
    const subscribed = yield* Queue.unbounded<Node>()
    const restartRequests = yield* Queue.unbounded<{ readonly node: Node; readonly downtime: Duration.Duration }>()

    const nodes: Array<Node> = []
    for (let index = 0; index < count; index++) {
      const port = options.basePort === undefined || options.basePort === 0 ? 0 : options.basePort + index
      const server = yield* BeaconNodeServer.make({ port })
      const node = new Node(index, server, chain.head)
      server.onSubscribe = () => {
        if (node.replayPending) Queue.unsafeOffer(subscribed, node)
      }
      routes(node, { genesisTime, secondsPerSlot, slotsPerEpoch, currentSlot })
      server.route(restartPath, (url, method) => {
        if (method !== "POST") return { status: 405, body: { code: 405, message: `use POST on ${restartPath}` } }
        const downMs = Number(url.searchParams.get("down_ms") ?? 1800)
        if (!Number.isInteger(downMs) || downMs < 0 || downMs > 600_000) {
          return { status: 400, body: { code: 400, message: "down_ms must be a whole number of ms up to 600000" } }
        }
        Queue.unsafeOffer(restartRequests, { node, downtime: Duration.millis(downMs) })
        return { status: 202, body: { data: { down_ms: downMs } } }
      })
      nodes.push(node)
    }
    const restarting = nodes[count > 1 ? 1 : 0]!
    const silent = nodes[2 % count]!
    const label = (node: Node) => ({ node: node.server.url, simulated: true })

    /** The node sees a new head (and the reorg that led to it), unless it is down or silent. */
    const see = (node: Node, block: SimulatedBlock, reorg: SimulatedReorg | undefined) =>
      Effect.gen(function*() {
        if (node.condition !== "up") return
        node.head = block
        node.server.send("head", headEventData(block, slotsPerEpoch))
        if (reorg === undefined) return
        node.server.send("chain_reorg", chainReorgData(reorg, slotsPerEpoch))
        if (yield* Random.nextBoolean) node.server.send("head", headEventData(block, slotsPerEpoch))
      })

    const restart = (node: Node, downtime: Duration.Duration) =>
      Effect.gen(function*() {
        yield* Effect.logInfo("simulated node restarting").pipe(Effect.annotateLogs(label(node)))
        node.condition = "down"
        yield* Effect.promise(() => node.server.stop())
        yield* Effect.sleep(downtime)
        yield* BeaconNodeServer.listen(node.server).pipe(
          Effect.tapError((error) => Effect.logWarning(error.message)),
          Effect.retry(Schedule.spaced(downtime)),
          Effect.orDie // retried until it listens
        )
        // Back in sync at once, but the first subscriber gets a replay of old heads, as a re-syncing node sends.
        node.head = chain.head
        node.replayPending = true
        node.condition = "up"
        yield* Effect.logInfo("simulated node back").pipe(Effect.annotateLogs(label(node)))
      })

    const replay = Effect.gen(function*() {
      const node = yield* Queue.take(subscribed)
      if (!node.replayPending) return
      node.replayPending = false
      for (const block of chain.recent(replayOnRestart)) node.server.send("head", headEventData(block, slotsPerEpoch))
    }).pipe(Effect.forever)

    const produce = (slot: number) =>
      Effect.gen(function*() {
        if (!faults) return { block: chain.extend(slot), reorg: undefined }
        const roll = yield* Random.next
        if (roll < skipProbability) return undefined
        if (roll < skipProbability + reorgProbability) {
          const reorg = chain.reorg(slot, (yield* Random.nextIntBetween(0, 4)) === 0 ? 2 : 1)
          if (reorg !== undefined) return { block: reorg.newHead, reorg }
        }
        return { block: chain.extend(slot), reorg: undefined }
      })

    const tick = (slot: number) =>
      Effect.gen(function*() {
        if (faults && slot % restartEvery === 0) yield* Effect.forkScoped(restart(restarting, downtime))
        if (faults && silent.condition === "up" && slot % silenceEvery === Math.floor(silenceEvery / 2)) {
          silent.condition = "silent"
          silent.silentUntil = slot + silenceFor
          yield* Effect.logInfo("simulated node goes silent").pipe(
            Effect.annotateLogs({ ...label(silent), slots: silenceFor })
          )
        }
        if (silent.condition === "silent" && slot >= silent.silentUntil) silent.condition = "up"
        const produced = yield* produce(slot)
        if (produced === undefined) {
          yield* Effect.logDebug("simulated skipped slot").pipe(Effect.annotateLogs({ slot, simulated: true }))
          return
        }
        const { block, reorg } = produced
        if (reorg !== undefined) {
          yield* Effect.logDebug("simulated reorg").pipe(Effect.annotateLogs({ slot, depth: reorg.depth, simulated: true }))
        }
        for (const node of nodes) {
          const delay = baseDelay(node.index) + (yield* Random.nextIntBetween(0, 30))
          yield* Effect.forkScoped(Effect.zipRight(Effect.sleep(delay), see(node, block, reorg)))
        }
      })

    const run = Effect.gen(function*() {
      let slot = currentSlot() + 1
      while (true) {
        const wait = slotStart(slot) - clock.unsafeCurrentTimeMillis()
        if (wait > 0) yield* Effect.sleep(wait)
        // After a pause longer than a slot (a suspended laptop), continue at the current slot.
        slot = Math.max(slot, currentSlot())
        yield* tick(slot)
        slot++
      }
    })

    yield* Effect.forkScoped(replay)
    // Requested restarts run on their own fibers: the request is answered before the node goes down.
    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(
      Queue.take(restartRequests),
      ({ downtime, node }) => Effect.forkScoped(restart(node, downtime))
    )))
    yield* Effect.forkScoped(run)

    return {
      urls: nodes.map((node) => node.server.url),
      nodes,
      genesisTime,
      secondsPerSlot,
      slotsPerEpoch,
      head: Effect.sync(() => chain.head),
      restart: (index, downtime) => {
        const node = nodes[index]
        return node === undefined ? Effect.void : restart(node, Duration.decode(downtime))
      }
    }
  })

interface Timing {
  readonly genesisTime: number
  readonly secondsPerSlot: number
  readonly slotsPerEpoch: number
  readonly currentSlot: () => number
}

/** The REST part of the Beacon API that the monitor and its health checks read. */
const routes = (node: Node, timing: Timing): void => {
  const { server } = node
  const syncDistance = () => Math.max(0, timing.currentSlot() - node.head.slot)
  server.route("/eth/v1/node/syncing", () => ({
    status: 200,
    body: {
      data: {
        head_slot: String(node.head.slot),
        sync_distance: String(syncDistance()),
        is_syncing: syncDistance() > 2,
        is_optimistic: false,
        el_offline: false
      }
    }
  }))
  // As Lodestar: 200 while synced, 206 while syncing.
  server.route("/eth/v1/node/health", () => ({ status: syncDistance() > 2 ? 206 : 200, body: {} }))
  server.route("/eth/v1/config/spec", () => ({
    status: 200,
    body: {
      data: {
        CONFIG_NAME: "simulated-devnet",
        PRESET_BASE: "minimal",
        SECONDS_PER_SLOT: String(timing.secondsPerSlot),
        SLOTS_PER_EPOCH: String(timing.slotsPerEpoch),
        DEPOSIT_CHAIN_ID: "1337",
        DEPOSIT_NETWORK_ID: "1337"
      }
    }
  }))
  server.route("/eth/v1/beacon/genesis", () => ({
    status: 200,
    body: {
      data: {
        genesis_time: String(timing.genesisTime),
        genesis_validators_root: genesisValidatorsRoot,
        genesis_fork_version: "0x00000000"
      }
    }
  }))
  server.route("/eth/v1/beacon/headers/head", () => ({ status: 200, body: headerResponse(node.head) }))
}

/**
 * The devnet as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: DevnetOptions): Layer.Layer<Devnet, BeaconNodeServer.ListenError> =>
  Layer.scoped(Devnet, make(options))
