/**
 * Follows every beacon node of the candidate list, each on its own supervised
 * fiber, and keeps the head cache and the nodes' status up to date.
 *
 * One fiber per node lives in a `FiberMap` keyed by node identity. Each loops
 * connect → stream → retry under the `RetryPolicy`, so a failure, stall, poison
 * event or restart of one node never touches another node's fiber. Every
 * accepted candidate-list update is reconciled: fibers of removed nodes are
 * interrupted (aborting their HTTP request), fibers for new nodes are spawned,
 * and nodes that stay are not touched at all.
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import {
  Context,
  Duration,
  Effect,
  Either,
  Fiber,
  FiberMap,
  Layer,
  Option,
  Queue,
  Runtime,
  Scope,
  Stream,
  SubscriptionRef
} from "effect"
import * as HeadCache from "../cache/BeaconHeadCache.js"
import { BeaconHeadCache, type CachedHead } from "../cache/BeaconHeadCache.js"
import * as HeadCacheViewModule from "../cache/HeadCacheView.js"
import type { HeadCacheView } from "../cache/HeadCacheView.js"
import * as ConsensusView from "../cache/ConsensusView.js"
import * as CandidateListModule from "../candidates/CandidateList.js"
import { type Candidates, CandidateList } from "../candidates/CandidateList.js"
import * as MonitorConfigModule from "../config/MonitorConfig.js"
import { MonitorConfig } from "../config/MonitorConfig.js"
import type { BeaconNodeId } from "../node/BeaconNode.js"
import * as RequestOptions from "../node/RequestOptions.js"
import { NodeRequestOptions } from "../node/RequestOptions.js"
import * as NodeClient from "../requests/NodeClient.js"
import * as NodeStreamTransport from "../stream/NodeStreamTransport.js"
import * as RetryPolicy from "../stream/RetryPolicy.js"
import type { StreamTransport } from "../stream/StreamTransport.js"
import * as Watchdog from "../stream/Watchdog.js"
import type { HeadEvent } from "./HeadEvent.js"
import * as SlotDuration from "../requests/SlotDuration.js"
import { makeBroadcast } from "./Broadcast.js"
import { type FollowerContext, follow } from "./NodeFollower.js"
import { NodeTracker } from "./NodeTracker.js"
import type { ReorgEvent } from "./ReorgEvent.js"
import type { NodeStatus } from "./NodeStatus.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface HeadMonitorService {
  /** The tuning in effect: the configured values, and the slot-sized ones worked out for the chain's slot. */
  readonly options: MonitorConfigModule.MonitorOptions
  /** Every head event of every node, from the moment the stream is run. */
  readonly heads: Stream.Stream<HeadEvent>
  /** Subscribes now, so that no event emitted after this effect is missed by the returned stream. */
  readonly subscribe: Effect.Effect<Stream.Stream<HeadEvent>, never, Scope.Scope>
  /** Subscribes now to every node's `chain_reorg` events. */
  readonly subscribeReorgs: Effect.Effect<Stream.Stream<ReorgEvent>, never, Scope.Scope>
  /** The head most nodes report, and how far each node is from it. */
  readonly consensus: Effect.Effect<ConsensusView.ConsensusView>
  /** Subscribes now to a node's status after every change of its connection state. */
  readonly subscribeStatus: Effect.Effect<Stream.Stream<NodeStatus>, never, Scope.Scope>
  /** Status of every node, in candidate-list order. */
  readonly status: Effect.Effect<ReadonlyArray<NodeStatus>>
  /** Status of one node. */
  readonly statusOf: (id: BeaconNodeId) => Effect.Effect<Option.Option<NodeStatus>>
  /** Number of node fibers running: equals the number of candidates once reconciled. */
  readonly fiberCount: Effect.Effect<number>
  /** Waits until the current candidate list has been reconciled (fibers started and stopped). */
  readonly awaitReconciled: Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class HeadMonitor extends Context.Tag("beacon-head-monitor/HeadMonitor")<HeadMonitor, HeadMonitorService>() {}

/**
 * Heads asked on connect in flight at most: a list of 1,000 nodes asked all at once held ~85 MiB of requests; 8
 * rather than 32 peaked ≈2.5 MiB lower at 1,000 nodes (156 against 159 MiB, alternating runs), at the same CPU.
 */
const askedAtOnce = 8

/** Heads held to be published together at most: a quarter of a subscriber's buffer (`makeBroadcast`'s 4,096). */
const heldAtMost = 1024

/**
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<
  HeadMonitorService,
  never,
  Scope.Scope | CandidateList | BeaconHeadCache | MonitorConfig | HttpClient.HttpClient | StreamTransport
> = Effect.gen(function*() {
  const candidates = yield* CandidateList
  const configured = yield* MonitorConfig
  // Every request to a node carries its headers and trusts its CAs: the configured ones, else those in context.
  const requestOptions = configured.requests === undefined
    ? yield* NodeRequestOptions
    : yield* Effect.orDieWith(RequestOptions.make(configured.requests), (error) => new Error(error.message))
  const withRequestOptions = Effect.provideService(NodeRequestOptions, requestOptions)
  // Every slot-sized timing follows one slot length: the configured one, else the chain's own.
  const slotDuration = yield* withRequestOptions(SlotDuration.resolve(
    (yield* candidates.get).nodes,
    Option.map(Option.fromNullable(configured.slotDuration), Duration.decode)
  ))
  const config = MonitorConfigModule.make(configured, slotDuration)
  const cache = yield* BeaconHeadCache
  const clock = yield* Effect.clock
  const fibers = yield* FiberMap.make<BeaconNodeId>()
  const trackers = new Map<BeaconNodeId, NodeTracker>()
  const heads = yield* makeBroadcast<HeadEvent>()
  const reorgs = yield* makeBroadcast<ReorgEvent>()
  const statusChanges = yield* makeBroadcast<NodeStatus>()
  const reconciled = yield* SubscriptionRef.make(-1)
  const now = () => clock.unsafeCurrentTimeMillis()
  const runFork = Runtime.runFork(yield* Effect.runtime<never>())
  /** Positions in the list last reconciled: what events and statuses of the nodes followed carry. */
  let positions: ReadonlyMap<BeaconNodeId, number> = new Map()

  const positionOf = (id: BeaconNodeId) => Effect.map(candidates.get, (list) => list.positions.get(id))

  /**
   * Staleness: one slot after some node was the first to reach a slot, every
   * node that has sent no byte since then and is still behind is dropped as
   * stalled and reconnected, well before the absolute idle limit. On a chain
   * where no node advances, nobody is dropped. One fiber checks; advances wait
   * in a sliding queue of one (a later advance subsumes an earlier one), so a
   * stream of ever-higher slots costs one offer per slot, not a timer each.
   */
  const advances = yield* Queue.sliding<{ readonly slot: number; readonly at: number }>(1)
  const slotMillis = Duration.toMillis(config.slotDuration)
  const checkStaleness = (slot: number, advancedAt: number) =>
    Effect.gen(function*() {
      for (const tracker of trackers.values()) {
        const { state } = tracker
        if (state._tag !== "Open" && state._tag !== "Connecting" && state._tag !== "Quiet") continue
        if (Math.max(tracker.lastActivityAt ?? state.since, state.since) >= advancedAt) continue
        const head = yield* cache.get(tracker.node.id)
        if (head._tag === "Some" && head.value.slot >= slot) continue
        tracker.dropStale(`no data for a slot while other nodes reached slot ${slot}`)
      }
    })
  yield* Effect.forkScoped(Effect.forever(Effect.gen(function*() {
    const { at, slot } = yield* Queue.take(advances)
    yield* Effect.sleep(Math.max(0, at + slotMillis - now()))
    yield* checkStaleness(slot, at)
  })))

  /**
   * Head events are published from the sockets' callbacks. A subscriber's wake-up through its stream costs as much
   * as reading a few sockets (~10 µs hot, 75–95 µs after a few idle milliseconds), so chunks that come in one turn
   * of the event loop are published together, but not all at its end: the first chunk of a turn at once (a
   * subscriber learns of the first node with a new head without waiting for the other sockets), then whenever the
   * chunks held reach a quarter of the turn's so far (4 at least), and what is left once Node has read every socket
   * that was ready (`setImmediate` runs after the poll phase). With 100 nodes writing at once the median head came
   * 1.3–1.4× as late as through a bare reader, against ≈1.5× published per chunk and ≈1.8× held to the turn's end; when
   * 1,000 nodes announce a head at once the subscriber wakes ≈25 times, where every 4 chunks was 250 (+0.6 % of a
   * core) and per chunk 1,000. At most `heldAtMost` heads are held: a node writing flat out fills a turn with more
   * heads than a subscriber's buffer holds, and its oldest would be lost.
   */
  let held: Array<HeadEvent> | undefined = undefined
  let heldChunks = 0
  let turnChunks = 0
  const publishHeld = () => {
    const events = held!
    held = []
    heldChunks = 0
    if (events.length > 0) heads.unsafePublishAll(events)
  }
  const releaseHeld = () => {
    publishHeld()
    held = undefined
  }
  const publishHeads = (events: ReadonlyArray<HeadEvent>) => {
    if (held === undefined) {
      heads.unsafePublishAll(events)
      held = []
      turnChunks = 1
      setImmediate(releaseHeld)
      return
    }
    for (const event of events) held.push(event)
    turnChunks++
    if (++heldChunks >= Math.max(4, turnChunks / 4) || held.length >= heldAtMost) publishHeld()
  }
  // Asks wait in a queue for one of `askedAtOnce` askers: a waiting node costs an entry, not a fiber of its own
  // (1,000 fibers waiting for a permit at start left ≈9 MiB of garbage in the old generation). Each ask runs on a
  // fiber of its connection's scope, so that the connection's end interrupts it, waiting or not.
  const asks = yield* Queue.unbounded<readonly [ask: Effect.Effect<void>, scope: Scope.Scope]>()
  const asker = Effect.forever(Effect.flatMap(Queue.take(asks), ([ask, scope]) => Effect.flatMap(Effect.forkIn(ask, scope), Fiber.await)))
  yield* Effect.forkScoped(
    withRequestOptions(Effect.all(Array.from({ length: askedAtOnce }, () => asker), { concurrency: "unbounded", discard: true }))
  )
  const context: FollowerContext = {
    config,
    retryPolicy: RetryPolicy.make(config.retry),
    watchdog: yield* Watchdog.make,
    cache,
    now,
    positionOf: (tracker) => trackers.get(tracker.node.id) === tracker ? positions.get(tracker.node.id) : undefined,
    publishHeads,
    advanced: (slot) => {
      advances.unsafeOffer({ slot, at: now() })
    },
    publishReorg: reorgs.unsafePublish,
    publishStatus,
    runFork: (effect) => {
      runFork(effect)
    },
    askInTurn: (ask, scope) => {
      asks.unsafeOffer([ask, scope])
    }
  }

  const reconcile = (list: Candidates) =>
    Effect.gen(function*() {
      const keep = new Set(list.nodes.map((node) => node.id))
      const removed = [...trackers.keys()].filter((id) => !keep.has(id))
      positions = list.positions
      // New nodes first, so that they start connecting while the removed ones are torn down.
      for (const node of list.nodes) {
        if (trackers.has(node.id)) continue
        const tracker = new NodeTracker(node, now())
        trackers.set(node.id, tracker)
        yield* FiberMap.run(fibers, node.id, follow(context, tracker))
      }
      for (const id of removed) trackers.delete(id)
      // Interrupted all at once from this fiber (each leaves the map as it ends), not a fiber forked per removal;
      // their heads leave the cache once they have ended, so that none is written back.
      yield* Fiber.interruptAll(removed.flatMap((id) => Option.toArray(FiberMap.unsafeGet(fibers, id))))
      yield* Effect.forEach(removed, cache.remove, { discard: true })
      yield* SubscriptionRef.set(reconciled, list.version)
    })

  // The nodes' fibers are forked here, so that they have the request options in their context without each
  // providing them (frames for as long as the fiber lives).
  yield* candidates.changes.pipe(Stream.runForEach(reconcile), withRequestOptions, Effect.forkScoped)

  /** Status from the node's record, its head and the two newest heads of the cache (read once per answer). */
  const statusFrom = (
    tracker: NodeTracker,
    index: number,
    head: CachedHead | undefined,
    leaders: ReadonlyArray<CachedHead>
  ): NodeStatus => {
    const newestOfOthers = leaders.find((cached) => cached.node.id !== tracker.node.id)?.slot
    const lagging = newestOfOthers !== undefined && (head === undefined || newestOfOthers - head.slot > config.laggingSlots)
    return tracker.snapshot(index, head, lagging)
  }
  const snapshot = (tracker: NodeTracker, index: number) =>
    Effect.zipWith(
      cache.get(tracker.node.id),
      cache.leaders,
      (head, leaders) => statusFrom(tracker, index, Option.getOrUndefined(head), leaders)
    )

  /** Publishes the node's status, synchronously (it runs in socket callbacks too). */
  function publishStatus(tracker: NodeTracker): void {
    const index = positions.get(tracker.node.id)
    if (index === undefined) return
    statusChanges.unsafePublish(statusFrom(tracker, index, cache.unsafeGet(tracker.node.id), cache.unsafeLeaders()))
  }

  const service: HeadMonitorService = {
    options: config,
    heads: Stream.unwrapScoped(heads.subscribe),
    subscribe: heads.subscribe,
    subscribeReorgs: reorgs.subscribe,
    consensus: Effect.map(cache.newestFirst, ConsensusView.fromHeads),
    subscribeStatus: statusChanges.subscribe,
    status: Effect.gen(function*() {
      const list = yield* candidates.get
      const newest = yield* cache.newestFirst
      const leaders = newest.slice(0, 2)
      const heads = new Map(newest.map((head) => [head.node.id, head]))
      const out: Array<NodeStatus> = []
      for (const [index, node] of list.nodes.entries()) {
        const tracker = trackers.get(node.id)
        if (tracker !== undefined) out.push(statusFrom(tracker, index, heads.get(node.id), leaders))
      }
      return out
    }),
    statusOf: (id) =>
      Effect.gen(function*() {
        const tracker = trackers.get(id)
        const index = yield* positionOf(id)
        if (tracker === undefined || index === undefined) return Option.none()
        return Option.some(yield* snapshot(tracker, index))
      }),
    fiberCount: FiberMap.size(fibers),
    awaitReconciled: Effect.gen(function*() {
      const { version } = yield* candidates.get
      yield* reconciled.changes.pipe(Stream.takeUntil((done) => done >= version), Stream.runDrain)
    })
  }
  return service
})

/**
 * The monitor over a head cache given in context: for programs that build
 * their own cache (and so may also write to it). Most want `layer`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithCache: Layer.Layer<
  HeadMonitor,
  never,
  BeaconHeadCache | CandidateList | MonitorConfig | HttpClient.HttpClient | StreamTransport
> = Layer.scoped(HeadMonitor, make)

/**
 * The monitor and a read-only view of its own head cache. Needs a
 * `CandidateList`, a `MonitorConfig`, an `HttpClient` (REST requests) and a
 * `StreamTransport` (event streams); closing the layer's scope interrupts every
 * node fiber and aborts every request.
 *
 * The slot length, which every slot-sized timing follows (staleness, the retry
 * cap, the idle limit, quiet-chain probes), is the configured `slotDuration`,
 * else the chain's own: the layer asks the nodes' `/eth/v1/config/spec` in list
 * order (32 at once, 3 s in all) and takes the first that tells it; with none
 * answering, mainnet's 12 s, with a warning. Nodes that say otherwise are named
 * in one warning. `options` tells what came out.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  HeadMonitor | HeadCacheView,
  never,
  CandidateList | MonitorConfig | HttpClient.HttpClient | StreamTransport
> = Layer.merge(layerWithCache, HeadCacheViewModule.layer).pipe(Layer.provide(HeadCache.layer))

/**
 * Everything wired for Node.js: the monitor and its cache, a candidate list
 * starting with `urls`, the given options, the `node:http` client for REST
 * requests and the `node:http` stream transport.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNode = (
  urls: ReadonlyArray<string>,
  options?: MonitorConfigModule.MonitorOptionsInput
): Layer.Layer<
  HeadMonitor | HeadCacheView | CandidateList | MonitorConfig,
  CandidateListModule.InvalidCandidateList | RequestOptions.InvalidRequestOptions
> =>
  Either.match(RequestOptions.make(options?.requests), {
    onLeft: Layer.fail,
    onRight: (requests) =>
      layer.pipe(
        Layer.provideMerge(CandidateListModule.layer(urls)),
        Layer.provideMerge(MonitorConfigModule.layer(options)),
        // One client for every node's REST requests: it trusts every node's CAs.
        Layer.provide(NodeClient.layer(requests.allCa)),
        Layer.provide(NodeStreamTransport.layer)
      )
  })
