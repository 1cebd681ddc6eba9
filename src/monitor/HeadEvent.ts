/**
 * What consumers of the monitor receive for every head a beacon node reports.
 *
 * @since 0.1.0
 */
import type { InsertOutcome } from "../cache/BeaconHeadCache.js"
import type { Root } from "../events/BeaconEvent.js"
import type { BeaconNode } from "../node/BeaconNode.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface HeadEvent {
  readonly node: BeaconNode
  /** The node's position in the candidate list current when the event was emitted. */
  readonly index: number
  readonly slot: number
  readonly block: Root
  readonly state: Root
  readonly epochTransition: boolean
  readonly previousDutyDependentRoot: Root | undefined
  readonly currentDutyDependentRoot: Root | undefined
  /** Arrival time, epoch milliseconds of the effect `Clock`. */
  readonly receivedAt: number
  /**
   * `new` advanced the node's head; `replaced` is another block at the same slot;
   * `duplicate` repeats the node's head; `replayed` is older than the node's head
   * (a re-syncing node's burst): consumers acting on live heads keep `new` and `replaced`.
   */
  readonly outcome: InsertOutcome
  /** This node is the first of all nodes to report this slot. */
  readonly first: boolean
}

/**
 * A live head: it moved the node's head forward or replaced it at the tip.
 *
 * @since 0.1.0
 */
export const isLive = (event: HeadEvent): boolean => event.outcome === "new" || event.outcome === "replaced"
