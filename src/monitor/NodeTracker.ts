/**
 * The mutable record behind one node's status. Internal: only the node's own
 * fibers and its connection's socket callbacks write it (JavaScript runs one of
 * them at a time, so there is no race), and readers get immutable snapshots.
 *
 * @since 0.1.0
 * @internal
 */
import type { CachedHead } from "../cache/BeaconHeadCache.js"
import type { Root } from "../events/BeaconEvent.js"
import type { BeaconNode } from "../node/BeaconNode.js"
import { BeaconStreamError, type DisconnectReason } from "../stream/BeaconStreamError.js"
import {
  ConnectionState,
  emptyCounters,
  type LastError,
  type LastReorg,
  type NodeCounters,
  type NodeStatus,
  type ProbeOutcome
} from "./NodeStatus.js"

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** @internal */
export class NodeTracker {
  state: ConnectionState
  /** Failures since data last flowed; the retry policy counts the same way. */
  attempt = 0
  private readonly counters: Mutable<NodeCounters>
  private readonly disconnects: Record<DisconnectReason, number>
  private readonly probes: Record<ProbeOutcome, number>
  lastActivityAt: number | undefined = undefined
  /** When asking the node last confirmed that its silent stream missed nothing. */
  lastConfirmedAt: number | undefined = undefined
  /**
   * The newest head the current connection's stream told (heads, optimistic ones included, and reorgs), or the
   * node had when the connection was asked for: what its silence is judged against. Each connection starts without.
   */
  delivered: { slot: number; block: Root } | undefined = undefined
  /** Topics of the current connection: `head` and `chain_reorg`, or `head` alone (see `NodeFollower`). */
  topics: ReadonlyArray<string> = ["head", "chain_reorg"]
  /** Why the node is followed on `head` alone (logged once), until a connection for the pair opens again. */
  pairRefusal: string | undefined = undefined
  lastReorg: LastReorg | undefined = undefined
  lastError: LastError | undefined = undefined
  /** New head block of the last reorg counted: a head and a chain_reorg for one switch count once. */
  private lastReorgBlock: Root | undefined = undefined
  /** Aborting it drops the current connection. */
  private connection: AbortController | undefined = undefined
  /** Throttling of invalid-event log lines. */
  lastInvalidLogAt = Number.NEGATIVE_INFINITY
  invalidSinceLog = 0

  constructor(readonly node: BeaconNode, now: number) {
    this.state = ConnectionState.Connecting({ since: now, attempt: 0 })
    this.counters = emptyCounters() as Mutable<NodeCounters>
    this.disconnects = this.counters.disconnects as Record<DisconnectReason, number>
    this.probes = this.counters.probes as Record<ProbeOutcome, number>
  }

  get count(): Mutable<NodeCounters> {
    return this.counters
  }

  connecting(now: number, connection: AbortController): void {
    this.connection = connection
    this.delivered = undefined
    this.state = ConnectionState.Connecting({ since: now, attempt: this.attempt })
  }

  /** Drops the current connection as stalled (the monitor saw it silent while others advanced). */
  dropStale(detail: string): void {
    this.drop(new BeaconStreamError({ node: this.node.display, reason: "stalled", detail }))
  }

  /** Drops the current connection with `error` (e.g. a `defect` while its events were handled). */
  drop(error: BeaconStreamError): void {
    this.connection?.abort(error)
    this.connection = undefined
  }

  /** Counts a fork switch to `block` once, though a head and a chain_reorg both announce it. */
  countReorg(block: Root): void {
    if (this.lastReorgBlock === block) return
    this.lastReorgBlock = block
    this.counters.chainReorgs++
  }

  opened(now: number): void {
    this.counters.connects++
    this.state = ConnectionState.Open({ since: now })
  }

  /** Data flowed on the open connection: the policy has reset, so do we. */
  flowed(): void {
    this.attempt = 0
  }

  /** The connection told this head: the newest so far is what its silence is judged against. */
  told(slot: number, block: Root): void {
    // Updated in place: this runs for every head, in the socket's callback.
    if (this.delivered === undefined) this.delivered = { slot, block }
    else if (slot >= this.delivered.slot) {
      this.delivered.slot = slot
      this.delivered.block = block
    }
  }

  /** Bytes arrived; answers whether that ended a quiet spell (the status changed). */
  heard(at: number): boolean {
    this.lastActivityAt = at
    if (this.state._tag !== "Quiet" || !this.state.opened) return false
    this.state = ConnectionState.Open({ since: this.state.since })
    return true
  }

  /** Asking the silent node found `outcome`; answers whether the state changed. */
  probed(outcome: ProbeOutcome, now: number): boolean {
    this.probes[outcome]++
    if (outcome !== "quiet") return false
    this.lastConfirmedAt = now
    const { state } = this
    const changed = state._tag !== "Quiet"
    if (state._tag === "Open" || state._tag === "Connecting" || state._tag === "Quiet") {
      this.state = ConnectionState.Quiet({
        since: state.since,
        opened: state._tag === "Quiet" ? state.opened : state._tag === "Open",
        silentSince: this.lastActivityAt ?? state.since,
        confirmedAt: now
      })
    }
    return changed
  }

  failed(error: BeaconStreamError, attempt: number, now: number, nextAttemptAt: number): void {
    this.attempt = attempt
    this.disconnects[error.reason]++
    this.lastError = { reason: error.reason, detail: error.detail, at: now }
    const waiting = { since: now, attempt, nextAttemptAt, reason: error.reason, detail: error.detail }
    this.state = error.reason === "stalled"
      ? ConnectionState.Stalled(waiting)
      : error.isRejected
      ? ConnectionState.Rejected(waiting)
      : ConnectionState.Backoff(waiting)
  }

  snapshot(index: number, head: CachedHead | undefined, lagging: boolean): NodeStatus {
    return {
      node: this.node,
      index,
      lagging,
      topics: this.topics,
      lastReorg: this.lastReorg,
      lastError: this.lastError,
      state: this.state,
      counters: { ...this.counters, disconnects: { ...this.disconnects }, probes: { ...this.probes } },
      head,
      lastActivityAt: this.lastActivityAt,
      lastConfirmedAt: this.lastConfirmedAt
    }
  }
}
