/**
 * The answer of `GET /lighthouse/beacon/health`: every node of the candidate
 * list in list order, with its connection state, failure counters and latest
 * head, as the head monitor reports them.
 *
 * The wire form is a Schema (`NodeReport`); `fromStatus` builds its type from a
 * `NodeStatus`. To report more per node, add fields to `NodeReport` and fill
 * them in `fromStatus` (or in `current`, for data from other services).
 *
 * @since 0.1.0
 */
import { DateTime, Effect, Option, Schema } from "effect"
import { Root, Uint64String } from "../events/BeaconEvent.js"
import { HealthPoller } from "../health/HealthPoller.js"
import * as NodeHealth from "../health/NodeHealth.js"
import { HeadMonitor } from "../monitor/HeadMonitor.js"
import { requestOrder } from "../routing/FirstSuccess.js"
import type { ConnectionState, NodeStatus } from "../monitor/NodeStatus.js"
import { disconnectReasons } from "../stream/BeaconStreamError.js"

/** Instants go on the wire as ISO 8601 strings (UTC). */
const Timestamp = Schema.DateTimeUtc

const Count = Schema.NonNegativeInt

/**
 * Why a connection ended.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DisconnectReason = Schema.Literal(disconnectReasons[0]!, ...disconnectReasons.slice(1))

const waiting = {
  /** When the failure happened. */
  since: Timestamp,
  /** Consecutive failures since data last flowed. */
  attempt: Count,
  next_attempt_at: Timestamp,
  reason: DisconnectReason,
  /** Short and secret-free: an error code, an HTTP status. */
  detail: Schema.String
}

/**
 * The connection state, tagged by `state`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Connection = Schema.Union(
  Schema.Struct({ state: Schema.Literal("connecting"), since: Timestamp, attempt: Count }),
  Schema.Struct({ state: Schema.Literal("open"), since: Timestamp }),
  /** Silent past the idle limit, kept because the node confirmed it missed no head (see the README). */
  Schema.Struct({
    state: Schema.Literal("quiet"),
    since: Timestamp,
    /** False while still waiting for the response headers. */
    opened: Schema.Boolean,
    silent_since: Timestamp,
    confirmed_at: Timestamp
  }),
  Schema.Struct({ state: Schema.Literal("backoff"), ...waiting }),
  Schema.Struct({ state: Schema.Literal("stalled"), ...waiting }),
  Schema.Struct({ state: Schema.Literal("rejected"), ...waiting })
)

/**
 * Counters since the node joined the list.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Counters = Schema.Struct({
  connects: Count,
  disconnects: Schema.Record({ key: DisconnectReason, value: Count }),
  heads: Count,
  replayed_heads: Count,
  chain_reorgs: Count,
  invalid_events: Count,
  optimistic_heads_skipped: Count,
  other_events: Count,
  /** Silent connections judged by asking the node for its head, by outcome. */
  probes: Schema.Struct({ quiet: Count, advanced: Count, unanswered: Count })
})

/**
 * The node's latest head.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Head = Schema.Struct({
  /** A decimal string, as in the Beacon API. */
  slot: Uint64String,
  root: Root,
  received_at: Timestamp,
  source: Schema.Literal("event", "seed", "reorg")
})

/**
 * The node's last `chain_reorg`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const LastReorg = Schema.Struct({ slot: Uint64String, depth: Count, at: Timestamp })

/**
 * The node's last failure (kept after it is back).
 *
 * @since 0.1.0
 * @category schemas
 */
export const LastError = Schema.Struct({ reason: DisconnectReason, detail: Schema.String, at: Timestamp })

/**
 * One node of the answer.
 *
 * @since 0.1.0
 * @category schemas
 */
export const NodeReport = Schema.Struct({
  /** Position in the current candidate list. */
  index: Count,
  /** Display form of the node's URL: secrets removed. */
  url: Schema.String,
  connection: Connection,
  /** When the node last sent any byte (keep-alives included). */
  last_activity_at: Schema.NullOr(Timestamp),
  /** When asking the node last confirmed that its silent stream missed no head. */
  last_confirmed_at: Schema.NullOr(Timestamp),
  /** More than `laggingSlots` behind the newest head of the other nodes. */
  lagging: Schema.Boolean,
  /** Subscribed event topics. */
  topics: Schema.Array(Schema.String),
  counters: Counters,
  head: Schema.NullOr(Head),
  last_reorg: Schema.NullOr(LastReorg),
  last_error: Schema.NullOr(LastError),
  /** Sync status and health tier from polling, where the health service runs (`null` otherwise). */
  sync: Schema.NullOr(NodeHealth.NodeHealthJson)
})

/**
 * @since 0.1.0
 * @category models
 */
export type NodeReport = typeof NodeReport.Type

/**
 * The whole answer.
 *
 * @since 0.1.0
 * @category schemas
 */
export const HealthReport = Schema.Struct({
  data: Schema.Array(NodeReport),
  /** Display URLs in the order requests try them (`FirstSuccess.requestOrder`), where the health service runs. */
  request_order: Schema.optional(Schema.Array(Schema.String))
})

const instant = (millis: number): DateTime.Utc => DateTime.unsafeMake(millis)

const waitingStates = { Backoff: "backoff", Stalled: "stalled", Rejected: "rejected" } as const

const connection = (state: ConnectionState): typeof Connection.Type => {
  switch (state._tag) {
    case "Connecting":
      return { state: "connecting", since: instant(state.since), attempt: state.attempt }
    case "Open":
      return { state: "open", since: instant(state.since) }
    case "Quiet":
      return {
        state: "quiet",
        since: instant(state.since),
        opened: state.opened,
        silent_since: instant(state.silentSince),
        confirmed_at: instant(state.confirmedAt)
      }
    case "Backoff":
    case "Stalled":
    case "Rejected":
      return {
        state: waitingStates[state._tag],
        since: instant(state.since),
        attempt: state.attempt,
        next_attempt_at: instant(state.nextAttemptAt),
        reason: state.reason,
        detail: state.detail
      }
  }
}

/**
 * One node's health from its status.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromStatus = (status: NodeStatus, sync: NodeHealth.NodeHealthJson | null = null): NodeReport => {
  const { counters, head, lastError, lastReorg } = status
  return {
    index: status.index,
    url: status.node.display,
    connection: connection(status.state),
    last_activity_at: status.lastActivityAt === undefined ? null : instant(status.lastActivityAt),
    last_confirmed_at: status.lastConfirmedAt === undefined ? null : instant(status.lastConfirmedAt),
    lagging: status.lagging,
    topics: status.topics,
    counters: {
      connects: counters.connects,
      disconnects: counters.disconnects,
      heads: counters.heads,
      replayed_heads: counters.replayedHeads,
      chain_reorgs: counters.chainReorgs,
      invalid_events: counters.invalidEvents,
      optimistic_heads_skipped: counters.optimisticHeadsSkipped,
      other_events: counters.otherEvents,
      probes: counters.probes
    },
    head: head === undefined
      ? null
      : { slot: head.slot, root: head.block, received_at: instant(head.receivedAt), source: head.source },
    last_reorg: lastReorg === undefined
      ? null
      : { slot: lastReorg.slot, depth: lastReorg.depth, at: instant(lastReorg.at) },
    last_error: lastError === undefined
      ? null
      : { reason: lastError.reason, detail: lastError.detail, at: instant(lastError.at) },
    sync
  }
}

/**
 * The health of every node now, in list order.
 *
 * @since 0.1.0
 * @category constructors
 */
export const current: Effect.Effect<typeof HealthReport.Type, never, HeadMonitor> = Effect.gen(function*() {
  const monitor = yield* HeadMonitor
  const statuses = yield* monitor.status
  const polled = yield* Effect.serviceOption(HealthPoller)
  if (Option.isNone(polled)) return { data: statuses.map((status) => fromStatus(status)) }
  const sync = new Map((yield* polled.value.health).map((health) => [health.node.id, NodeHealth.toJson(health)]))
  return {
    data: statuses.map((status) => fromStatus(status, sync.get(status.node.id) ?? null)),
    request_order: (yield* Effect.provideService(requestOrder, HealthPoller, polled.value)).nodes.map((node) =>
      node.display
    )
  }
})
