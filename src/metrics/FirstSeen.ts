/**
 * When each slot was first seen by any node, so that every other node's head
 * can be measured as a delay behind the first.
 *
 * Fed with the monitor's live head events: the earliest arrival of a slot is
 * its first sighting. Events of two nodes can be published in the other order
 * than they arrived (each node's fiber publishes on its own), so a later
 * arrival of a new slot may come first; the earliest `receivedAt` wins anyway.
 *
 * Internal: not part of the package's entries.
 *
 * @internal
 */
import { type HeadEvent, isLive } from "../monitor/HeadEvent.js"

/** Slots remembered: more than any node is plausibly behind while still reporting live heads. */
const remembered = 64

/**
 * @since 0.1.0
 * @category models
 */
export class FirstSeen {
  private readonly firstAt = new Map<number, number>()
  private highest = -1

  /**
   * Records the event; for a live head, answers its delay in milliseconds behind
   * the first node to see its slot (0 for the first node itself). A head for an
   * older slot that is no longer remembered has none.
   */
  record(event: HeadEvent): number | undefined {
    if (!isLive(event)) return undefined
    const known = this.firstAt.get(event.slot)
    if (known !== undefined) {
      if (event.receivedAt < known) this.firstAt.set(event.slot, event.receivedAt)
    } else if (event.first || event.slot >= this.highest) {
      this.firstAt.set(event.slot, event.receivedAt)
      // Map keeps insertion order: the oldest slot goes first.
      if (this.firstAt.size > remembered) this.firstAt.delete(this.firstAt.keys().next().value!)
    }
    this.highest = Math.max(this.highest, event.slot)
    return this.delayOf(event.slot, event.receivedAt)
  }

  /** Delay of an arrival at `receivedAt` behind the slot's first arrival, if the slot is remembered. */
  delayOf(slot: number, receivedAt: number): number | undefined {
    const first = this.firstAt.get(slot)
    return first === undefined ? undefined : Math.max(0, receivedAt - first)
  }
}
