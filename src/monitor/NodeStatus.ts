/**
 * The status of one beacon node's stream, as plain data.
 *
 * @since 0.1.0
 */
import { Data } from "effect"
import type { CachedHead } from "../cache/BeaconHeadCache.js"
import type { BeaconNode } from "../node/BeaconNode.js"
import { type DisconnectReason, disconnectReasons } from "../stream/BeaconStreamError.js"

/**
 * Waiting for the next attempt after a failure.
 *
 * @since 0.1.0
 * @category models
 */
export interface Waiting {
  /** When the failure happened (epoch ms). */
  readonly since: number
  /** Consecutive failures since the stream last delivered data. */
  readonly attempt: number
  /** When the next connection attempt starts (epoch ms). */
  readonly nextAttemptAt: number
  readonly reason: DisconnectReason
  readonly detail: string
}

/**
 * - `Connecting`: request sent, no response yet (a real node answers with its first event);
 * - `Open`: streaming since `since`;
 * - `Quiet`: the connection (open, or still waiting for its response headers) has been silent past the idle
 *   limit, and asking the node confirmed that it has no newer head than its stream delivered: the chain is quiet,
 *   the connection is kept (`since`: when it opened or was requested);
 * - `Backoff`: a transient failure, waiting to reconnect;
 * - `Stalled`: the stall watchdog dropped the connection, waiting to reconnect;
 * - `Rejected`: the node answered 4xx (or not an event stream), retried at the capped delay.
 *
 * @since 0.1.0
 * @category models
 */
export type ConnectionState = Data.TaggedEnum<{
  Connecting: { readonly since: number; readonly attempt: number }
  Open: { readonly since: number }
  Quiet: {
    readonly since: number
    /** False while still waiting for the response headers. */
    readonly opened: boolean
    /** The last byte, or the request when none came (epoch ms). */
    readonly silentSince: number
    /** When the node last confirmed its head (epoch ms). */
    readonly confirmedAt: number
  }
  Backoff: Waiting
  Stalled: Waiting
  Rejected: Waiting
}>

/**
 * @since 0.1.0
 * @category constructors
 */
export const ConnectionState = Data.taggedEnum<ConnectionState>()

/** Every tag once: the compiler refuses this object when a state is added and not listed. */
const stateTags: { readonly [Tag in ConnectionState["_tag"]]: null } = {
  Connecting: null,
  Open: null,
  Quiet: null,
  Backoff: null,
  Stalled: null,
  Rejected: null
}

/**
 * Every connection state's tag, e.g. to report each of them as a metric.
 *
 * @since 0.1.0
 * @category models
 */
export const connectionStates = Object.keys(stateTags) as ReadonlyArray<ConnectionState["_tag"]>

/**
 * What asking a silent node for its head (`GET /eth/v1/beacon/headers/head`) found.
 * - `quiet`: no newer head than its stream delivered: the connection is kept;
 * - `advanced`: a newer head: the stream missed it, the connection is dropped as stalled;
 * - `unanswered`: no answer (or not a head): the connection is dropped as stalled.
 *
 * @since 0.1.0
 * @category models
 */
export type ProbeOutcome = "quiet" | "advanced" | "unanswered"

/**
 * Every probe outcome, e.g. to report each as a metric.
 *
 * @since 0.1.0
 * @category models
 */
export const probeOutcomes: ReadonlyArray<ProbeOutcome> = ["quiet", "advanced", "unanswered"]

/**
 * Counters since the node joined the list.
 *
 * @since 0.1.0
 * @category models
 */
export interface NodeCounters {
  /** Connections that were answered 200 with an event stream. */
  readonly connects: number
  /** Connections lost, by reason. */
  readonly disconnects: Readonly<Record<DisconnectReason, number>>
  /** Valid, non-optimistic head events (replayed ones included). */
  readonly heads: number
  /** Heads older than the node's newest (a re-syncing node's burst). */
  readonly replayedHeads: number
  /** Fork switches: `chain_reorg` events, and heads at the node's slot with another root (one switch counts once). */
  readonly chainReorgs: number
  /** Poison events dropped: bad JSON, failed schema, unknown event name. */
  readonly invalidEvents: number
  readonly optimisticHeadsSkipped: number
  /** Events of other topics, ignored. */
  readonly otherEvents: number
  /** Silent connections judged by asking the node for its head, by outcome. */
  readonly probes: Readonly<Record<ProbeOutcome, number>>
}

/**
 * Counters of a node that has just joined: all zero.
 *
 * @since 0.1.0
 * @category constructors
 */
export const emptyCounters = (): NodeCounters => ({
  connects: 0,
  disconnects: Object.fromEntries(disconnectReasons.map((reason) => [reason, 0])) as Record<DisconnectReason, number>,
  heads: 0,
  replayedHeads: 0,
  chainReorgs: 0,
  invalidEvents: 0,
  optimisticHeadsSkipped: 0,
  otherEvents: 0,
  probes: Object.fromEntries(probeOutcomes.map((outcome) => [outcome, 0])) as Record<ProbeOutcome, number>
})

/**
 * The node's last `chain_reorg`.
 *
 * @since 0.1.0
 * @category models
 */
export interface LastReorg {
  readonly slot: number
  readonly depth: number
  readonly at: number
}

/**
 * The node's last failure: why its last connection ended, or its last attempt failed.
 *
 * @since 0.1.0
 * @category models
 */
export interface LastError {
  readonly reason: DisconnectReason
  /** Short and secret-free: an error code, an HTTP status. */
  readonly detail: string
  /** Epoch ms. */
  readonly at: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface NodeStatus {
  readonly node: BeaconNode
  /** Position in the current candidate list. */
  readonly index: number
  /** The node's head is more than `laggingSlots` behind the newest head of the other nodes (or it has none). */
  readonly lagging: boolean
  /** Subscribed topics: `head,chain_reorg`, or `head` alone for a node that refused the pair. */
  readonly topics: ReadonlyArray<string>
  readonly lastReorg: LastReorg | undefined
  /** Kept after the node is back, so that a flapping node shows why. */
  readonly lastError: LastError | undefined
  readonly state: ConnectionState
  readonly counters: NodeCounters
  /** The node's latest head, if the cache has one. */
  readonly head: CachedHead | undefined
  /** When the node last sent any byte (keep-alives included), epoch ms. */
  readonly lastActivityAt: number | undefined
  /** When asking the node last confirmed that its silent stream missed nothing, epoch ms. */
  readonly lastConfirmedAt: number | undefined
}
