/**
 * The page's live feed: Server-Sent Events with a full snapshot on every
 * (re)connect, then changes, and a keep-alive comment every 15 s.
 *
 * Messages (`event:` name, `data:` one line of JSON):
 * - `snapshot`: `now`, every node's lane (the health answer's entry of each
 *   node), the arrival statistics (`/arrivals`), the consensus view (`/heads`)
 *   and the recent events; sent first, and again after a list change;
 * - `lane`: one node's lane, after each change of its state and each of its heads;
 * - `chain`: `now`, the arrival statistics and the consensus view, at most four
 *   times a second while heads arrive;
 * - `event`: a reorg (slot, depth, node) or a list change, with an increasing `id`.
 *
 * Each client reads its own subscriptions, each a sliding buffer: a slow or
 * stalled tab loses its oldest changes and never slows the monitor. At most
 * `maxClients` are open at once. Every feed ends when the service closes (or
 * on `close`), so that a server with pages open can stop at once.
 *
 * @since 0.1.0
 */
import { Context, Data, Deferred, Duration, Effect, Layer, type Scope, Schema, Stream } from "effect"
import * as ArrivalsView from "../admin/ArrivalsView.js"
import * as HealthReport from "../admin/HealthReport.js"
import * as HeadsView from "../admin/HeadsView.js"
import { ArrivalStats } from "../arrivals/ArrivalStats.js"
import { CandidateList } from "../candidates/CandidateList.js"
import { makeBroadcast } from "../monitor/Broadcast.js"
import { HeadMonitor } from "../monitor/HeadMonitor.js"
import type { NodeStatus } from "../monitor/NodeStatus.js"

/**
 * Most page clients at once.
 *
 * @since 0.1.0
 */
export const maxClients = 16

/**
 * Between two keep-alive comments.
 *
 * @since 0.1.0
 */
export const keepAliveInterval = Duration.seconds(15)

/** Events kept for the snapshot of a client that connects. */
const recentEvents = 32

/** Shortest time between two `chain` messages. */
const chainInterval = Duration.millis(250)

/**
 * A reorg or a list change, as the events panel shows it.
 *
 * @since 0.1.0
 * @category models
 */
export type FeedEvent =
  | {
    readonly kind: "reorg"
    readonly id: number
    readonly at: number
    readonly slot: number
    readonly depth: number
    readonly index: number
    /** Display URL. */
    readonly node: string
  }
  | {
    readonly kind: "list"
    readonly id: number
    readonly at: number
    readonly version: number
    /** Display URLs, in order. */
    readonly nodes: ReadonlyArray<string>
  }

/**
 * The 17th client.
 *
 * @since 0.1.0
 * @category errors
 */
export class TooManyClients extends Data.TaggedError("TooManyClients")<{ readonly limit: number }> {
  override get message() {
    return `too many page clients: at most ${this.limit} at once; close another tab of the page`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface DashboardFeedService {
  /** A new client's feed as SSE text; fails when `maxClients` are open. The client's place frees when the stream ends. */
  readonly open: Effect.Effect<Stream.Stream<string>, TooManyClients>
  /** Clients open now. */
  readonly clients: Effect.Effect<number>
  /** Ends every feed, now and from now on (before the server stops, which waits for open responses). */
  readonly close: Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class DashboardFeed extends Context.Tag("beacon-head-monitor/DashboardFeed")<
  DashboardFeed,
  DashboardFeedService
>() {}

const message = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`

const encodeLane = Schema.encodeSync(HealthReport.NodeReport)
const encodeArrivals = Schema.encodeSync(ArrivalsView.ArrivalsResponse)
const encodeHeads = Schema.encodeSync(HeadsView.HeadsResponse)

/**
 * Keeps the recent events for as long as the scope lives.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<
  DashboardFeedService,
  never,
  HeadMonitor | CandidateList | ArrivalStats | Scope.Scope
> = Effect.gen(function*() {
  const monitor = yield* HeadMonitor
  const candidates = yield* CandidateList
  const stats = yield* ArrivalStats
  const clock = yield* Effect.clock
  const events = yield* makeBroadcast<FeedEvent>(recentEvents)
  /** Newest first. */
  let recent: ReadonlyArray<FeedEvent> = []
  let nextId = 1
  let clients = 0
  const closed = yield* Deferred.make<void>()
  yield* Effect.addFinalizer(() => Deferred.succeed(closed, undefined))

  const add = (event: FeedEvent) => {
    recent = [event, ...recent].slice(0, recentEvents)
    return events.publish(event)
  }
  const reorgs = yield* monitor.subscribeReorgs
  yield* Effect.forkScoped(Stream.runForEach(reorgs, (reorg) =>
    Effect.suspend(() =>
      add({
        kind: "reorg",
        id: nextId++,
        at: reorg.receivedAt,
        slot: reorg.slot,
        depth: reorg.depth,
        index: reorg.index,
        node: reorg.node.display
      })
    )))
  // The list the monitor starts with is the first list event.
  yield* Effect.forkScoped(Stream.runForEach(candidates.changes, (list) =>
    Effect.suspend(() =>
      add({
        kind: "list",
        id: nextId++,
        at: clock.unsafeCurrentTimeMillis(),
        version: list.version,
        nodes: list.nodes.map((node) => node.display)
      })
    )))

  const lane = (status: NodeStatus) => encodeLane(HealthReport.fromStatus(status))
  const chain = Effect.gen(function*() {
    const arrivals = encodeArrivals(ArrivalsView.fromSnapshot(yield* stats.snapshot)).data
    const heads = encodeHeads(HeadsView.fromView(yield* monitor.consensus)).data
    return { now: clock.unsafeCurrentTimeMillis(), arrivals, heads }
  })
  const snapshot = Effect.gen(function*() {
    const { version } = yield* candidates.get
    const lanes = (yield* monitor.status).map(lane)
    return { version, text: message("snapshot", { ...(yield* chain), lanes, events: recent }) }
  })

  /** Subscribes first, then takes the snapshot: nothing that happens in between is missed. */
  const connect = Effect.gen(function*() {
    const statuses = yield* monitor.subscribeStatus
    const heads = yield* monitor.subscribe
    const arrivals = yield* stats.subscribe
    const added = yield* events.subscribe
    const first = yield* snapshot
    const lanes = Stream.merge(
      statuses,
      heads.pipe(Stream.mapEffect((head) => monitor.statusOf(head.node.id)), Stream.filterMap((status) => status))
    ).pipe(Stream.map((status) => message("lane", lane(status))))
    const chains = arrivals.pipe(
      Stream.groupedWithin(Number.MAX_SAFE_INTEGER, chainInterval),
      Stream.mapEffect(() => Effect.map(chain, (data) => message("chain", data)))
    )
    const lists = candidates.changes.pipe(
      Stream.filter((list) => list.version > first.version),
      Stream.mapEffect(() => Effect.map(snapshot, ({ text }) => text))
    )
    const keepAlive = Stream.tick(keepAliveInterval).pipe(Stream.drop(1), Stream.as(": keep-alive\n\n"))
    return Stream.concat(
      Stream.succeed(first.text),
      Stream.mergeAll([lanes, chains, lists, Stream.map(added, (event) => message("event", event)), keepAlive], {
        concurrency: "unbounded"
      })
    )
  })

  return {
    open: Effect.suspend(() => {
      if (clients >= maxClients) return Effect.fail(new TooManyClients({ limit: maxClients }))
      clients++
      return Effect.succeed(Stream.unwrapScoped(connect).pipe(
        Stream.interruptWhen(Deferred.await(closed)),
        Stream.ensuring(Effect.sync(() => clients--))
      ))
    }),
    clients: Effect.sync(() => clients),
    close: Effect.asVoid(Deferred.succeed(closed, undefined))
  }
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<DashboardFeed, never, HeadMonitor | CandidateList | ArrivalStats> = Layer.scoped(
  DashboardFeed,
  make
)
