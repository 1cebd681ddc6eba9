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
import { Duration, Effect, Either, Option, Schedule, ScheduleDecision, ScheduleIntervals, Schema, type Scope } from "effect"
import type { BeaconHeadCacheService } from "../cache/BeaconHeadCache.js"
import type { MonitorOptions } from "../config/MonitorConfig.js"
import { type BeaconEvent, type ChainReorgData, type HeadEventData, Root, Uint64String } from "../events/BeaconEvent.js"
import { getJson } from "../requests/NodeRequest.js"
import * as BeaconEventStream from "../stream/BeaconEventStream.js"
import type { BeaconStreamError } from "../stream/BeaconStreamError.js"
import type * as RetryPolicy from "../stream/RetryPolicy.js"
import type { StreamTransport } from "../stream/StreamTransport.js"
import type * as Watchdog from "../stream/Watchdog.js"
import type { HeadEvent } from "./HeadEvent.js"
import type { NodeTracker } from "./NodeTracker.js"
import type { ReorgEvent } from "./ReorgEvent.js"

/**
 * What a follower needs from the monitor. The functions are synchronous: they
 * run in the socket's callback, where each chunk of events is handled without
 * running an effect.
 *
 * @internal
 */
export interface FollowerContext {
  readonly config: MonitorOptions
  /** The retry policy of `config.retry`, built once for every node. */
  readonly retryPolicy: Schedule.Schedule<RetryPolicy.RetryStep, BeaconStreamError>
  /** One stall watchdog for every node's connections. */
  readonly watchdog: Watchdog.Watchdog
  readonly cache: BeaconHeadCacheService
  readonly now: () => number
  /** The node's position in the list last reconciled; `undefined` once it left it (its fiber is being interrupted). */
  readonly positionOf: (tracker: NodeTracker) => number | undefined
  readonly publishHeads: (heads: ReadonlyArray<HeadEvent>) => void
  /** Some node was the first to reach `slot`. */
  readonly advanced: (slot: number) => void
  readonly publishReorg: (event: ReorgEvent) => void
  readonly publishStatus: (tracker: NodeTracker) => void
  /** Runs a rare effect (a log line) from a callback. */
  readonly runFork: (effect: Effect.Effect<void>) => void
  /**
   * Runs a request for a node's head on a fiber of `scope` once one of the bounded number of such requests in flight
   * is done (first come, first served); one whose scope closed meanwhile is interrupted at once.
   */
  readonly askInTurn: (ask: Effect.Effect<void>, scope: Scope.Scope) => void
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
 * against, and the seed of the cache once the stream opens. A failure changes nothing else. Run in its turn among
 * such requests (`askInTurn`); a stream that told a head while the ask waited for its turn needs no seed, and its
 * node is not asked.
 */
const headOnConnect = (context: FollowerContext, tracker: NodeTracker) =>
  Effect.suspend(() =>
    tracker.delivered === undefined ? Effect.asSome(askHead(tracker, context.config.idleTimeout)) : Effect.succeedNone
  ).pipe(
    Effect.tapError((error) =>
      // The error names the node by its display form only.
      Effect.logDebug("could not ask the node's head on connect").pipe(
        Effect.annotateLogs({ node: tracker.node.display, reason: error.message })
      )
    ),
    Effect.orElseSucceed(() => Option.none<HeaderAnswer>())
  )

/**
 * A live head: into the cache (an optimistic head is counted, never cached), counted, and its event added to
 * `out`; answers its slot if this node saw it first (−1 otherwise).
 */
const onHead = (
  context: FollowerContext,
  tracker: NodeTracker,
  data: HeadEventData,
  receivedAt: number,
  index: number,
  out: Array<HeadEvent>
): number => {
  tracker.told(data.slot, data.block)
  if (data.execution_optimistic) {
    tracker.count.optimisticHeadsSkipped++
    return -1
  }
  const { node } = tracker
  const { first, outcome } = context.cache.unsafeInsert({ node, slot: data.slot, block: data.block, receivedAt, source: "event" })
  if (outcome === "replayed") tracker.count.replayedHeads++
  else tracker.count.heads++
  if (outcome === "replaced") tracker.countReorg(data.block)
  out.push({
    node,
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
  return first ? data.slot : -1
}

const onReorg = (context: FollowerContext, tracker: NodeTracker, data: ChainReorgData, receivedAt: number, index: number) => {
  tracker.told(data.slot, data.new_head_block)
  if (data.execution_optimistic) return
  const { node } = tracker
  // The head may have come first (Lodestar sends it before chain_reorg): then only the depth is new.
  const current = context.cache.unsafeGet(node.id)
  if (current === undefined || current.block !== data.new_head_block) {
    context.cache.unsafeSet({ node, slot: data.slot, block: data.new_head_block, receivedAt, source: "reorg" })
  }
  tracker.countReorg(data.new_head_block)
  tracker.lastReorg = { slot: data.slot, depth: data.depth, at: receivedAt }
  context.publishReorg({
    node,
    index,
    slot: data.slot,
    depth: data.depth,
    oldHeadBlock: data.old_head_block,
    newHeadBlock: data.new_head_block,
    receivedAt
  })
}

const onInvalid = (context: FollowerContext, tracker: NodeTracker, topic: string, reason: string) => {
  tracker.count.invalidEvents++
  tracker.invalidSinceLog++
  const at = context.now()
  if (at - tracker.lastInvalidLogAt < Duration.toMillis(context.config.invalidEventLogInterval)) return
  const dropped = tracker.invalidSinceLog
  tracker.lastInvalidLogAt = at
  tracker.invalidSinceLog = 0
  context.runFork(Effect.logWarning("dropped invalid event").pipe(
    Effect.annotateLogs({ node: tracker.node.display, topic: topic.slice(0, 64), reason, dropped })
  ))
}

/**
 * Handles one chunk of a node's events, in order, in the socket's callback:
 * each goes into the cache, then its counters; the chunk's heads are
 * published together at its end. The events of a node no longer listed are
 * dropped: its fiber is being interrupted and its head taken out of the
 * cache. A throw here fails this connection only (see `BeaconEventStream.run`).
 */
const handleEvents = (
  context: FollowerContext,
  tracker: NodeTracker,
  events: ReadonlyArray<BeaconEvent>,
  receivedAt: number
): void => {
  const index = context.positionOf(tracker)
  if (index === undefined) return
  tracker.flowed()
  const out: Array<HeadEvent> = []
  let advancedTo = -1
  for (const event of events) {
    switch (event._tag) {
      case "Head":
        advancedTo = Math.max(advancedTo, onHead(context, tracker, event.data, receivedAt, index, out))
        break
      case "ChainReorg":
        onReorg(context, tracker, event.data, receivedAt, index)
        break
      case "Other":
        tracker.count.otherEvents++
        break
      case "Invalid":
        onInvalid(context, tracker, event.topic, event.reason)
    }
  }
  if (out.length > 0) context.publishHeads(out)
  if (advancedTo >= 0) context.advanced(advancedTo)
}

/**
 * The seed of one connection: the node's head asked on connect goes in the
 * cache once the stream is open, so that it counts at once; an optimistic
 * head or no answer seeds nothing.
 */
class Seed {
  private answer: HeaderAnswer | undefined = undefined
  private isOpen = false
  /** The node answered (or failed to): its connection's next request asks no more. */
  isAnswered = false

  constructor(private readonly context: FollowerContext, private readonly tracker: NodeTracker) {}

  answered(answer: Option.Option<HeaderAnswer>): void {
    this.isAnswered = true
    if (answer._tag === "None") return
    this.tracker.told(answer.value.data.header.message.slot, answer.value.data.root)
    if (answer.value.execution_optimistic) return
    this.answer = answer.value
    if (this.isOpen) this.insert()
  }

  open(): void {
    this.isOpen = true
    if (this.answer !== undefined) this.insert()
  }

  private insert(): void {
    const { answer, tracker } = this
    if (answer === undefined) return
    this.answer = undefined
    this.context.cache.unsafeInsert({
      node: tracker.node,
      slot: answer.data.header.message.slot,
      block: answer.data.root,
      receivedAt: this.context.now(),
      source: "seed"
    })
  }
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
        context.publishStatus(tracker)
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

  const onEvents = (events: ReadonlyArray<BeaconEvent>, receivedAt: number) => handleEvents(context, tracker, events, receivedAt)
  const onBytes = (at: number) => {
    // The first byte after a quiet spell changes the status.
    if (tracker.heard(at)) context.publishStatus(tracker)
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
      context.publishStatus(tracker)
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

  /**
   * One request for `topics`, from request to failure; `evidence`: why `head` alone, said once it opens. The node's
   * head asked on connect seeds the cache once the stream is open (whichever comes last does it).
   */
  const stream = (
    topics: ReadonlyArray<string>,
    controller: AbortController,
    judge: Effect.Effect<void, string>,
    seed: Seed,
    ask: Effect.Effect<void>,
    evidence?: string
  ) =>
    BeaconEventStream.run(node, {
      topics,
      idleTimeout: config.idleTimeout,
      maxEventSize: config.maxEventSize,
      controller,
      // In this request's scope: an answer that comes after it failed cannot write the head back.
      onRequest: Effect.flatMap(Effect.scope, (scope) => Effect.sync(() => context.askInTurn(ask, scope))),
      onOpen: Effect.suspend(() => {
        tracker.opened(now())
        if (topics === pair) tracker.pairRefusal = undefined
        seed.open()
        const said = evidence === undefined ? Effect.void : followHeadAlone(evidence)
        return Effect.zipLeft(said, Effect.sync(() => context.publishStatus(tracker)))
      }),
      onBytes,
      onIdle: judge,
      watchdog: context.watchdog
    }, onEvents)

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
    const controller = new AbortController()
    const client = yield* HttpClient.HttpClient
    const trial = askHeadAlone
    askHeadAlone = false
    tracker.topics = trial ? headAlone : pair
    tracker.connecting(now(), controller)
    context.publishStatus(tracker)
    const seed = new Seed(context, tracker)
    // Asked with each request of the connection until the node answers it (the pair's 400 ends the first request).
    const ask = Effect.suspend(() =>
      seed.isAnswered ? Effect.void : Effect.flatMap(
        Effect.provideService(headOnConnect(context, tracker), HttpClient.HttpClient, client),
        (answer) => Effect.sync(() => seed.answered(answer))
      )
    )
    const judge = Effect.provideService(judgeSilence, HttpClient.HttpClient, client)
    if (trial) return yield* stream(headAlone, controller, judge, seed, ask, "unanswered until dropped, while head alone answers")
    const failed = (error: BeaconStreamError) => {
      const { state } = tracker
      const unanswered = state._tag === "Connecting" || (state._tag === "Quiet" && !state.opened)
      askHeadAlone = error.reason === "stalled" && unanswered && tracker.topics === pair
      return Effect.fail(error)
    }
    // One handler, one frame on the fiber for as long as the stream lasts.
    return yield* Effect.catchAll(stream(pair, controller, judge, seed, ask), (error) =>
      error.status === 400
        ? Effect.zipRight(followHeadAlone("HTTP 400"), stream(headAlone, controller, judge, seed, ask)).pipe(
          Effect.catchAll(failed)
        )
        : failed(error))
  })

  /**
   * connect → fail → wait as the policy says → connect, for ever. The policy is
   * driven by hand (not `Effect.retry`, which never resets): as `Stream.retry`
   * does, a connection that delivered data starts the backoff afresh.
   */
  const reconnecting = Effect.gen(function*() {
    const driver = yield* Schedule.driver(policy)
    while (true) {
      const error = yield* Effect.flip(connection)
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
