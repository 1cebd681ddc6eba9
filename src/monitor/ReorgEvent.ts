/**
 * What consumers of the monitor receive for a beacon node's `chain_reorg` event.
 * (A head at the node's slot with another root is a `HeadEvent` with outcome
 * `replaced`; both count as one reorg in the node's counters.)
 *
 * @since 0.1.0
 */
import type { Root } from "../events/BeaconEvent.js"
import type { BeaconNode } from "../node/BeaconNode.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface ReorgEvent {
  readonly node: BeaconNode
  /** The node's position in the candidate list current when the event was emitted. */
  readonly index: number
  /** Slot of the new head. */
  readonly slot: number
  readonly depth: number
  readonly oldHeadBlock: Root
  readonly newHeadBlock: Root
  readonly receivedAt: number
}
