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
import { NodeHttpClient } from "@effect/platform-node"
import {
  Context,
  Duration,
  Effect,
  FiberMap,
  Layer,
  Option,
  PubSub,
  Schedule,
  ScheduleDecision,
  ScheduleIntervals,
  Scope,
  Stream,
  SubscriptionRef
} from "effect"
import * as HeadCache from "../cache/BeaconHeadCache.js"
import { BeaconHeadCache } from "../cache/BeaconHeadCache.js"
import * as CandidateListModule from "../candidates/CandidateList.js"
import { type Candidates, CandidateList } from "../candidates/CandidateList.js"
import * as MonitorConfigModule from "../config/MonitorConfig.js"
import { MonitorConfig } from "../config/MonitorConfig.js"
import type { BeaconEvent, HeadEventData } from "../events/BeaconEvent.js"
import type { BeaconNodeId } from "../node/BeaconNode.js"
import * as BeaconEventStream from "../stream/BeaconEventStream.js"
import * as RetryPolicy from "../stream/RetryPolicy.js"
import type { HeadEvent } from "./HeadEvent.js"
import { NodeTracker } from "./NodeTracker.js"
import type { NodeStatus } from "./NodeStatus.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface HeadMonitorService {
  /** Every head event of every node, from the moment the stream is run. */
  readonly heads: Stream.Stream<HeadEvent>
  /** Subscribes now, so that no event emitted after this effect is missed by the returned stream. */
  readonly subscribe: Effect.Effect<Stream.Stream<HeadEvent>, never, Scope.Scope>
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

/** Size of each subscriber's buffer: a consumer that falls this far behind loses the oldest events, never stalls the nodes. */
const subscriberBuffer = 4096

/**
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<
  HeadMonitorService,
  never,
  Scope.Scope | CandidateList | BeaconHeadCache | MonitorConfig | HttpClient.HttpClient
> = Effect.gen(function*() {
  const config = yield* MonitorConfig
  const candidates = yield* CandidateList
  const cache = yield* BeaconHeadCache
  const clock = yield* Effect.clock
  const fibers = yield* FiberMap.make<BeaconNodeId>()
  const trackers = new Map<BeaconNodeId, NodeTracker>()
  const pubsub = yield* Effect.acquireRelease(PubSub.sliding<HeadEvent>(subscriberBuffer), PubSub.shutdown)
  const statusChanges = yield* Effect.acquireRelease(PubSub.sliding<NodeStatus>(subscriberBuffer), PubSub.shutdown)
  const reconciled = yield* SubscriptionRef.make(-1)
  const now = () => clock.unsafeCurrentTimeMillis()

  const positionOf = (id: BeaconNodeId) => Effect.map(candidates.get, (list) => list.positions.get(id))

  const onHead = (tracker: NodeTracker, data: HeadEventData) =>
    Effect.gen(function*() {
      const { node } = tracker
      if (data.execution_optimistic) {
        tracker.count.optimisticHeadsSkipped++
        return
      }
      const receivedAt = now()
      const { first, outcome } = yield* cache.insert({
        node,
        slot: data.slot,
        block: data.block,
        receivedAt,
        source: "event"
      })
      if (outcome === "replayed") tracker.count.replayedHeads++
      else tracker.count.heads++
      const index = yield* positionOf(node.id)
      // A node removed from the list is being interrupted: its last events are not published.
      if (index === undefined) return
      yield* PubSub.publish(pubsub, {
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
    })

  const onInvalid = (tracker: NodeTracker, topic: string, reason: string) =>
    Effect.suspend(() => {
      tracker.count.invalidEvents++
      tracker.invalidSinceLog++
      const at = now()
      if (at - tracker.lastInvalidLogAt < Duration.toMillis(config.invalidEventLogInterval)) return Effect.void
      const dropped = tracker.invalidSinceLog
      tracker.lastInvalidLogAt = at
      tracker.invalidSinceLog = 0
      return Effect.logWarning("dropped invalid event").pipe(
        Effect.annotateLogs({ node: tracker.node.display, topic: topic.slice(0, 64), reason, dropped })
      )
    })

  const onEvent = (tracker: NodeTracker) => (event: BeaconEvent): Effect.Effect<void> => {
    tracker.delivered()
    switch (event._tag) {
      case "Head":
        return onHead(tracker, event.data)
      case "ChainReorg":
        return Effect.sync(() => {
          tracker.count.chainReorgs++
        })
      case "Other":
        return Effect.sync(() => {
          tracker.count.otherEvents++
        })
      case "Invalid":
        return onInvalid(tracker, event.topic, event.reason)
    }
  }

  /** The node's connect → stream → retry loop. Never fails; only interruption ends it. */
  const follow = (tracker: NodeTracker): Effect.Effect<void, never, HttpClient.HttpClient> => {
    const { node } = tracker
    const policy = RetryPolicy.make(config.retry).pipe(
      Schedule.onDecision((step, decision) =>
        Effect.gen(function*() {
          const at = now()
          const next = ScheduleDecision.isContinue(decision) ? ScheduleIntervals.start(decision.intervals) : at
          tracker.failed(step.error, step.attempt, at, next)
          // A dead node's head must never count as newest.
          yield* cache.remove(node.id)
          yield* publishStatus(tracker)
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
    const connection = Stream.unwrap(Effect.sync(() => {
      tracker.connecting(now())
      return BeaconEventStream.connect(node, {
        idleTimeout: config.idleTimeout,
        maxEventSize: config.maxEventSize,
        onOpen: Effect.suspend(() => {
          tracker.opened(now())
          return publishStatus(tracker)
        }),
        onBytes: (at) => {
          tracker.lastActivityAt = at
        }
      })
    }).pipe(Effect.tap(() => publishStatus(tracker))))
    return connection.pipe(
      Stream.retry(policy),
      Stream.runForEach(onEvent(tracker)),
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

  const reconcile = (list: Candidates) =>
    Effect.gen(function*() {
      const keep = new Set(list.nodes.map((node) => node.id))
      const removed = [...trackers.keys()].filter((id) => !keep.has(id))
      yield* Effect.forEach(removed, (id) =>
        Effect.zipRight(
          FiberMap.remove(fibers, id),
          Effect.zipRight(Effect.sync(() => trackers.delete(id)), cache.remove(id))
        ), { concurrency: "unbounded", discard: true })
      for (const node of list.nodes) {
        if (trackers.has(node.id)) continue
        const tracker = new NodeTracker(node, now())
        trackers.set(node.id, tracker)
        yield* FiberMap.run(fibers, node.id, follow(tracker))
      }
      yield* SubscriptionRef.set(reconciled, list.version)
    })

  yield* candidates.changes.pipe(Stream.runForEach(reconcile), Effect.forkScoped)

  const snapshot = (tracker: NodeTracker, index: number) =>
    Effect.map(cache.get(tracker.node.id), (head) => tracker.snapshot(index, Option.getOrUndefined(head)))

  function publishStatus(tracker: NodeTracker): Effect.Effect<void> {
    return Effect.flatMap(positionOf(tracker.node.id), (index) =>
      index === undefined
        ? Effect.void
        : Effect.flatMap(snapshot(tracker, index), (status) => PubSub.publish(statusChanges, status)))
  }

  const service: HeadMonitorService = {
    heads: Stream.fromPubSub(pubsub),
    subscribe: Effect.map(PubSub.subscribe(pubsub), Stream.fromQueue),
    subscribeStatus: Effect.map(PubSub.subscribe(statusChanges), Stream.fromQueue),
    status: Effect.gen(function*() {
      const list = yield* candidates.get
      const out: Array<NodeStatus> = []
      for (const [index, node] of list.nodes.entries()) {
        const tracker = trackers.get(node.id)
        if (tracker !== undefined) out.push(yield* snapshot(tracker, index))
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
 * The monitor and its head cache. Needs a `CandidateList`, a `MonitorConfig`
 * and an `HttpClient`; closing the layer's scope interrupts every node fiber and
 * aborts every request.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  HeadMonitor | BeaconHeadCache,
  never,
  CandidateList | MonitorConfig | HttpClient.HttpClient
> = Layer.scoped(HeadMonitor, make).pipe(Layer.provideMerge(HeadCache.layer))

/**
 * Everything wired for Node.js: the monitor and its cache, a candidate list
 * starting with `urls`, the given options and the `node:http` client (which,
 * unlike undici's default, has no body timeout of its own: the stall watchdog
 * decides).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNode = (
  urls: ReadonlyArray<string>,
  options?: MonitorConfigModule.MonitorOptionsInput
): Layer.Layer<
  HeadMonitor | BeaconHeadCache | CandidateList | MonitorConfig,
  CandidateListModule.InvalidCandidateList
> =>
  layer.pipe(
    Layer.provideMerge(CandidateListModule.layer(urls)),
    Layer.provideMerge(MonitorConfigModule.layer(options)),
    Layer.provide(NodeHttpClient.layer)
  )
