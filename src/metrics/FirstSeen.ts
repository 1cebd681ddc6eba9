/**
 * When each slot was first seen by any node, so that every other node's head
 * can be measured as a delay behind the first.
 *
 * Fed with the monitor's head events in order: the event marked `first`
 * records the slot's first arrival; later live events for the same slot get
 * their delay from it.
 *
 * @since 0.1.0
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

  /**
   * Records the event; for a live head, answers its delay in milliseconds behind
   * the first node to see its slot (0 for the first node itself).
   */
  record(event: HeadEvent): number | undefined {
    if (event.first && !this.firstAt.has(event.slot)) {
      this.firstAt.set(event.slot, event.receivedAt)
      // Map keeps insertion order: the oldest slot goes first.
      if (this.firstAt.size > remembered) this.firstAt.delete(this.firstAt.keys().next().value!)
    }
    return isLive(event) ? this.delayOf(event.slot, event.receivedAt) : undefined
  }

  /** Delay of an arrival at `receivedAt` behind the slot's first arrival, if the slot is remembered. */
  delayOf(slot: number, receivedAt: number): number | undefined {
    const first = this.firstAt.get(slot)
    return first === undefined ? undefined : Math.max(0, receivedAt - first)
  }
}
