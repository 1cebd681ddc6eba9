/**
 * The life of one node's fiber: connect → stream → reconnect under the policy, for ever.
 *
 * Each connection subscribes to `head` and `chain_reorg` (falling back to
 * `head` alone for a node that rejects or chokes on the pair), asks the node's
 * `/eth/v1/beacon/headers/head` as its request is sent (the seed of the cache
 * once it opens), judges a silence past the idle limit by asking again (a quiet
 * chain keeps the connection), and turns every event into cache updates,
 * counters and published events. Nothing here can fail the fiber: only
 * interruption ends it.
 *
 * @since 0.1.0
 * @internal
 */
import { HttpClient } from "@effect/platform"
import {
  Deferred,
  Duration,
  Effect,
  Either,
  Fiber,
  Option,
  Runtime,
  Schedule,
  ScheduleDecision,
  ScheduleIntervals,
  Schema
} from "effect"
import type { BeaconHeadCacheService, CachedHead } from "../cache/BeaconHeadCache.js"
import type { MonitorOptions } from "../config/MonitorConfig.js"
import { type BeaconEvent, type ChainReorgData, type HeadEventData, Root, Uint64String } from "../events/BeaconEvent.js"
import { getJson } from "../requests/NodeRequest.js"
import * as BeaconEventStream from "../stream/BeaconEventStream.js"
import type { BeaconStreamError } from "../stream/BeaconStreamError.js"
import type * as RetryPolicy from "../stream/RetryPolicy.js"
import type { StreamTransport } from "../stream/StreamTransport.js"
import type { HeadEvent } from "./HeadEvent.js"
import type { NodeTracker } from "./NodeTracker.js"
import type { ReorgEvent } from "./ReorgEvent.js"

/**
 * One chunk of one node's events, as it arrived.
 *
 * @internal
 */
export interface Arrival {
  readonly tracker: NodeTracker
  readonly events: ReadonlyArray<BeaconEvent>
  /** When the chunk arrived, in epoch milliseconds of the effect `Clock`. */
  readonly receivedAt: number
}

/**
 * What the arrivals of one turn publish once they are all handled.
 *
 * @internal
 */
export interface Delivery {
  /** Head events in the order they arrived. */
  readonly heads: Array<HeadEvent>
  /** The highest slot some node was the first to reach (−1: none). */
  advancedTo: number
}

/**
 * What a follower needs from the monitor.
 *
 * @internal
 */
export interface FollowerContext {
  readonly config: MonitorOptions
  /** The retry policy of `config.retry`, built once for every node. */
  readonly retryPolicy: Schedule.Schedule<RetryPolicy.RetryStep, BeaconStreamError>
  readonly cache: BeaconHeadCacheService
  readonly now: () => number
  /** Queues a chunk of events; the monitor handles the chunks of one turn of the event loop together. */
  readonly arrive: (arrival: Arrival) => void
  /** Handles every queued chunk now. */
  readonly flushArrivals: Effect.Effect<void>
  readonly publishReorg: (event: ReorgEvent) => Effect.Effect<void>
  readonly publishStatus: (tracker: NodeTracker) => Effect.Effect<void>
}

const pair: ReadonlyArray<string> = ["head", "chain_reorg"]
const headAlone: ReadonlyArray<string> = ["head"]

/** The part of `GET /eth/v1/beacon/headers/head` the seed and the quiet-chain probe need. */
const HeaderResponse = Schema.Struct({
  execution_optimistic: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  data: Schema.Struct({
    root: Root,
    header: Schema.Struct({ message: Schema.Struct({ slot: Uint64String }) })
  })
})

type HeaderAnswer = typeof HeaderResponse.Type

/** The node's head, asked over its REST API (through the requests room, never a connection of our own). */
const askHead = (tracker: NodeTracker, timeout: Duration.DurationInput) =>
  getJson(tracker.node, "/eth/v1/beacon/headers/head", HeaderResponse, { timeout })

/**
 * The node's head as a connection's request is sent: what a silent stream that told nothing yet is judged
 * against, and the seed of the cache once the stream opens. A failure changes nothing else.
 */
const headOnConnect = (context: FollowerContext, tracker: NodeTracker) =>
  askHead(tracker, context.config.idleTimeout).pipe(
    Effect.tap((header) => tracker.told(header.data.header.message.slot, header.data.root)),
    Effect.tapError((error) =>
      // The error names the node by its display form only.
      Effect.logDebug("could not ask the node's head on connect").pipe(
        Effect.annotateLogs({ node: tracker.node.display, reason: error.message })
      )
    ),
    Effect.option
  )

/** Puts the node's head asked on connect in the cache as soon as its stream opens, so that it counts at once. */
const seed = (context: FollowerContext, tracker: NodeTracker, asked: Fiber.Fiber<Option.Option<HeaderAnswer>>) =>
  Effect.flatMap(Fiber.join(asked), (answer) =>
    Option.isNone(answer) || answer.value.execution_optimistic ? Effect.void : context.cache.insert({
      node: tracker.node,
      slot: answer.value.data.header.message.slot,
      block: answer.value.data.root,
      receivedAt: context.now(),
      source: "seed"
    }))

/** The heads of one chunk of one node, optimistic ones set apart (counted, never cached). */
interface ChunkHeads {
  readonly tracker: NodeTracker
  readonly live: ReadonlyArray<HeadEventData>
  readonly optimistic: number
  readonly receivedAt: number
  /** The node's position in the list now; `undefined`: no longer listed (being interrupted), not published. */
  readonly index: number | undefined
}

const chunkHeads = (
  tracker: NodeTracker,
  heads: ReadonlyArray<HeadEventData>,
  receivedAt: number,
  index: number | undefined
): ChunkHeads => {
  const live: Array<HeadEventData> = []
  for (const data of heads) {
    tracker.told(data.slot, data.block)
    if (!data.execution_optimistic) live.push(data)
  }
  return { tracker, live, optimistic: heads.length - live.length, receivedAt, index }
}

/**
 * The heads of several chunks, in order: one cache update for all of them,
 * then the counters and the turn's delivery. No generator, no closure per
 * head: this is the hot path.
 */
const insertHeads = (context: FollowerContext, chunks: ReadonlyArray<ChunkHeads>, delivery: Delivery): Effect.Effect<void> => {
  const cached: Array<CachedHead> = []
  for (const { live, receivedAt, tracker } of chunks) {
    for (const data of live) cached.push({ node: tracker.node, slot: data.slot, block: data.block, receivedAt, source: "event" })
  }
  return Effect.map(cached.length === 0 ? Effect.succeed([]) : context.cache.insertAll(cached), (results) => {
    let at = 0
    for (const { index, live, optimistic, receivedAt, tracker } of chunks) {
      tracker.count.optimisticHeadsSkipped += optimistic
      for (const data of live) {
        const { first, outcome } = results[at++]!
        if (outcome === "replayed") tracker.count.replayedHeads++
        else tracker.count.heads++
        if (outcome === "replaced") tracker.countReorg(data.block)
        // A node removed from the list is being interrupted: its last events are not published.
        if (index === undefined) continue
        if (first && data.slot > delivery.advancedTo) delivery.advancedTo = data.slot
        delivery.heads.push({
          node: tracker.node,
          index,
          slot: data.slot,
          block: data.block,
          state: data.state,
          epochTransition: data.epoch_transition,
          previousDutyDependentRoot: data.previous_duty_dependent_root,
          currentDutyDependentRoot: data.current_duty_dependent_root,
          receivedAt,
          outcome,
          first
        })
      }
    }
  })
}

const onReorg = (
  context: FollowerContext,
  tracker: NodeTracker,
  data: ChainReorgData,
  receivedAt: number,
  index: number | undefined
): Effect.Effect<void> =>
  Effect.gen(function*() {
    tracker.told(data.slot, data.new_head_block)
    if (data.execution_optimistic) return
    const { node } = tracker
    const cached = yield* context.cache.get(node.id)
    // The head may have come first (Lodestar sends it before chain_reorg): then only the depth is new.
    const current = cached._tag === "Some" ? cached.value : undefined
    if (current === undefined || current.block !== data.new_head_block) {
      yield* context.cache.set({ node, slot: data.slot, block: data.new_head_block, receivedAt, source: "reorg" })
    }
    tracker.countReorg(data.new_head_block)
    tracker.lastReorg = { slot: data.slot, depth: data.depth, at: receivedAt }
    if (index === undefined) return
    yield* context.publishReorg({
      node,
      index,
      slot: data.slot,
      depth: data.depth,
      oldHeadBlock: data.old_head_block,
      newHeadBlock: data.new_head_block,
      receivedAt
    })
  })

const onInvalid = (context: FollowerContext, tracker: NodeTracker, topic: string, reason: string): Effect.Effect<void> =>
  Effect.suspend(() => {
    tracker.count.invalidEvents++
    tracker.invalidSinceLog++
    const at = context.now()
    if (at - tracker.lastInvalidLogAt < Duration.toMillis(context.config.invalidEventLogInterval)) return Effect.void
    const dropped = tracker.invalidSinceLog
    tracker.lastInvalidLogAt = at
    tracker.invalidSinceLog = 0
    return Effect.logWarning("dropped invalid event").pipe(
      Effect.annotateLogs({ node: tracker.node.display, topic: topic.slice(0, 64), reason, dropped })
    )
  })

const headsOf = (events: ReadonlyArray<BeaconEvent>): Array<HeadEventData> | undefined => {
  const heads: Array<HeadEventData> = []
  for (const event of events) {
    if (event._tag !== "Head") return undefined
    heads.push(event.data)
  }
  return heads
}

/**
 * Handles one chunk of a node's events, `index` being the node's position in
 * the list now (`undefined`: no longer listed), event by event, in order.
 *
 * @internal
 */
export const handleArrival = (
  context: FollowerContext,
  { events, receivedAt, tracker }: Arrival,
  index: number | undefined,
  delivery: Delivery
): Effect.Effect<void> =>
  Effect.forEach(events, (event) => {
    switch (event._tag) {
      case "Head":
        return insertHeads(context, [chunkHeads(tracker, [event.data], receivedAt, index)], delivery)
      case "ChainReorg":
        return onReorg(context, tracker, event.data, receivedAt, index)
      case "Other":
        return Effect.sync(() => {
          tracker.count.otherEvents++
        })
      case "Invalid":
        return onInvalid(context, tracker, event.topic, event.reason)
    }
  }, { discard: true })

/**
 * Handles the chunks of one turn when they hold heads only (the rule: a head
 * per node per slot), with one cache update for all of them; `undefined` when
 * some chunk holds another event, to be handled chunk by chunk, in order.
 *
 * @internal
 */
export const handleHeadArrivals = (
  context: FollowerContext,
  arrivals: ReadonlyArray<Arrival>,
  indexOf: (tracker: NodeTracker) => number | undefined,
  delivery: Delivery
): Effect.Effect<void> | undefined => {
  const chunks: Array<ChunkHeads> = []
  for (const { events, receivedAt, tracker } of arrivals) {
    const heads = headsOf(events)
    if (heads === undefined) return undefined
    chunks.push(chunkHeads(tracker, heads, receivedAt, indexOf(tracker)))
  }
  return insertHeads(context, chunks, delivery)
}

/**
 * @internal
 */
export const follow = (
  context: FollowerContext,
  tracker: NodeTracker
): Effect.Effect<never, never, HttpClient.HttpClient | StreamTransport> => {
  const { cache, config, now } = context
  const { node } = tracker
  const probeTimeout = Duration.times(config.slotDuration, 0.5)

  const policy = context.retryPolicy.pipe(
    Schedule.onDecision((step, decision) =>
      Effect.gen(function*() {
        const at = now()
        const next = ScheduleDecision.isContinue(decision) ? ScheduleIntervals.start(decision.intervals) : at
        // A bug, not the node: said once, loudly, with its cause (the error's message stays secret-free).
        if (step.error.defect !== undefined) {
          yield* Effect.logError("handling a node's events failed, reconnecting", step.error.defect).pipe(
            Effect.annotateLogs({ node: node.display })
          )
        }
        tracker.failed(step.error, step.attempt, at, next)
        // A dead node's head must never count as newest.
        yield* cache.remove(node.id)
        yield* context.publishStatus(tracker)
        yield* Effect.logDebug("stream failed, reconnecting").pipe(
          Effect.annotateLogs({
            node: node.display,
            reason: step.error.reason,
            detail: step.error.detail,
            attempt: step.attempt,
            retryInMs: next - at
          })
        )
      })
    )
  )

  /** In the socket's callback: data flowed (the policy resets), and the chunk waits for the turn's handling. */
  const onEvents = (events: ReadonlyArray<BeaconEvent>, receivedAt: number) => {
    tracker.flowed()
    context.arrive({ tracker, events, receivedAt })
  }

  /**
   * Silence is not a stall: a real node sends no keep-alives, and while the chain misses slots its stream carries
   * no byte. When the connection (open, or still waiting for its response headers) has been silent for the idle
   * limit, the node is asked for its head. No newer head than the connection told (or than the node had when the
   * connection was asked for) → the chain is quiet: the connection is kept, and asked again after another idle
   * period. A newer head, or no answer within half a slot → stalled.
   */
  const judgeSilence: Effect.Effect<void, string, HttpClient.HttpClient> = Effect.gen(function*() {
    const answer = yield* Effect.either(askHead(tracker, probeTimeout))
    if (Either.isLeft(answer)) {
      tracker.probed("unanswered", now())
      return yield* Effect.fail(`no answer to GET /eth/v1/beacon/headers/head (${answer.left.reason})`)
    }
    const slot = answer.right.data.header.message.slot
    const block = answer.right.data.root
    const told = tracker.delivered
    if (told === undefined || (block !== told.block && slot >= told.slot)) {
      tracker.probed("advanced", now())
      const since = told === undefined ? "it had none when the stream was asked for" : `its stream told slot ${told.slot}`
      return yield* Effect.fail(`the node's head is at slot ${slot}, ${since}`)
    }
    if (tracker.probed("quiet", now())) {
      yield* context.publishStatus(tracker)
      yield* Effect.logDebug("stream silent, the node confirms its head: the chain is quiet, connection kept").pipe(
        Effect.annotateLogs({ node: node.display, slot })
      )
    }
  })

  /** Follows `head` alone on this connection, saying why when the pair was accepted until now. */
  const followHeadAlone = (evidence: string) =>
    Effect.suspend(() => {
      tracker.topics = headAlone
      if (tracker.pairRefusal !== undefined) return Effect.void
      tracker.pairRefusal = evidence
      return Effect.logWarning("node refuses the head+chain_reorg subscription, following head only").pipe(
        Effect.annotateLogs({ node: node.display, evidence })
      )
    })

  /** One request for `topics`, from request to failure; `evidence`: why `head` alone, said once it opens. */
  const stream = (
    topics: ReadonlyArray<string>,
    kick: Deferred.Deferred<never, BeaconStreamError>,
    client: HttpClient.HttpClient,
    asked: Fiber.Fiber<Option.Option<HeaderAnswer>>,
    evidence?: string
  ) =>
    Effect.flatMap(Effect.runtime<never>(), (runtime) =>
      BeaconEventStream.run(node, {
        topics,
        idleTimeout: config.idleTimeout,
        maxEventSize: config.maxEventSize,
        stop: Deferred.await(kick),
        onOpen: Effect.suspend(() => {
          tracker.opened(now())
          if (topics === pair) tracker.pairRefusal = undefined
          // Scoped to this connection: a seed still running when it fails cannot write the head back afterwards.
          const seeding = seed(context, tracker, asked)
          const said = evidence === undefined ? Effect.void : followHeadAlone(evidence)
          return Effect.zipRight(Effect.zipRight(said, context.publishStatus(tracker)), Effect.forkScoped(seeding))
        }),
        onBytes: (at) => {
          // The first byte after a quiet spell changes the status: rare, so a fiber of its own is fine.
          if (tracker.heard(at)) Runtime.runFork(runtime)(context.publishStatus(tracker))
        },
        onIdle: Effect.provideService(judgeSilence, HttpClient.HttpClient, client)
      }, onEvents))

  /**
   * Some servers refuse `chain_reorg`: newer ones answer 400 to the pair, Lodestar v1.5.1 never answered a request
   * naming it. Only evidence turns the pair off, and only for one connection (the next one asks for the pair again):
   * a 400 to the pair (then `head` alone is asked at once, no failure counted), or the pair left unanswered until
   * it was dropped while `head` alone, asked next, opens. A drop before the answer is no evidence by itself (a
   * syncing node answers with its first event): it only makes the next attempt ask for `head` alone, to find out.
   */
  let askHeadAlone = false

  /** One connection, from request to failure. */
  const connection = Effect.gen(function*() {
    const kick = yield* Deferred.make<never, BeaconStreamError>()
    const client = yield* HttpClient.HttpClient
    const trial = askHeadAlone
    askHeadAlone = false
    tracker.topics = trial ? headAlone : pair
    tracker.connecting(now(), kick)
    yield* context.publishStatus(tracker)
    const asked = yield* Effect.forkScoped(Effect.provideService(headOnConnect(context, tracker), HttpClient.HttpClient, client))
    if (trial) return yield* stream(headAlone, kick, client, asked, "unanswered until dropped, while head alone answers")
    return yield* stream(pair, kick, client, asked).pipe(
      Effect.catchIf(
        (error) => error.status === 400,
        () => Effect.zipRight(followHeadAlone("HTTP 400"), stream(headAlone, kick, client, asked))
      ),
      Effect.tapError((error) =>
        Effect.sync(() => {
          const { state } = tracker
          const unanswered = state._tag === "Connecting" || (state._tag === "Quiet" && !state.opened)
          askHeadAlone = error.reason === "stalled" && unanswered && tracker.topics === pair
        })
      )
    )
  }).pipe(Effect.scoped)

  /**
   * connect → fail → wait as the policy says → connect, for ever. The policy is
   * driven by hand (not `Effect.retry`, which never resets): as `Stream.retry`
   * does, a connection that delivered data starts the backoff afresh.
   */
  const reconnecting = Effect.gen(function*() {
    const driver = yield* Schedule.driver(policy)
    while (true) {
      const error = yield* Effect.flip(connection)
      // The events that arrived before the failure come before it.
      yield* context.flushArrivals
      if (tracker.attempt === 0) yield* driver.reset
      // The policy never ends, so `next` never fails.
      yield* Effect.orDie(driver.next(error))
    }
  })

  return reconnecting.pipe(
    // Unreachable unless a bug throws: restart after the capped delay rather than lose the node.
    Effect.catchAllCause((cause) =>
      Effect.logError("node fiber failed, restarting", cause).pipe(
        Effect.annotateLogs({ node: node.display }),
        Effect.zipRight(Effect.sleep(config.retry.maxDelay))
      )
    ),
    Effect.forever
  )
}
