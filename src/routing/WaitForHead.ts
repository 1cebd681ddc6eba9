/**
 * Waiting for the head of a slot: the building block of "attest as soon as the
 * head arrives, else at a third of the slot".
 *
 * It subscribes to the monitor's head events first and only then looks in the
 * head cache for a head of the slot that already arrived, so a head arriving in
 * between is seen by the subscription and no head is missed.
 *
 * @since 0.1.0
 */
import { Data, Effect, Option, Stream } from "effect"
import type { CachedHead } from "../cache/BeaconHeadCache.js"
import { HeadCacheView } from "../cache/HeadCacheView.js"
import { isLive } from "../monitor/HeadEvent.js"
import { HeadMonitor } from "../monitor/HeadMonitor.js"

/**
 * The first head seen for a slot: which node, which block, when.
 *
 * @since 0.1.0
 * @category models
 */
export type SeenHead = Pick<CachedHead, "node" | "slot" | "block" | "receivedAt">

/**
 * No node reported a head for the slot before the deadline.
 *
 * @since 0.1.0
 * @category errors
 */
export class HeadDeadlinePassed extends Data.TaggedError("HeadDeadlinePassed")<{
  readonly slot: number
  /** The deadline, epoch milliseconds of the effect `Clock`. */
  readonly deadline: number
}> {
  override get message() {
    return `no head for slot ${this.slot} by ${new Date(this.deadline).toISOString()}`
  }
}

const seen = (head: SeenHead): SeenHead => ({
  node: head.node,
  slot: head.slot,
  block: head.block,
  receivedAt: head.receivedAt
})

/**
 * Resolves with the first head of `slot` (already cached or arriving), or fails
 * with `HeadDeadlinePassed` at `deadline` (epoch milliseconds of the effect
 * `Clock`, e.g. `slotClock.startOf(slot) + slotMillis / 3`). Heads of other
 * slots, repeats and replays of re-syncing nodes are ignored.
 *
 * @since 0.1.0
 * @category combinators
 */
export const waitForHead = (
  slot: number,
  deadline: number
): Effect.Effect<SeenHead, HeadDeadlinePassed, HeadMonitor | HeadCacheView> =>
  Effect.scoped(Effect.gen(function*() {
    const events = yield* (yield* HeadMonitor).subscribe
    const cached = (yield* (yield* HeadCacheView).newestFirst).find((head) => head.slot === slot)
    if (cached !== undefined) return seen(cached)
    const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
    const passed = new HeadDeadlinePassed({ slot, deadline })
    const first = events.pipe(
      Stream.filter((event) => event.slot === slot && isLive(event)),
      Stream.runHead,
      Effect.flatMap(Option.match({ onNone: () => Effect.fail(passed), onSome: (event) => Effect.succeed(seen(event)) }))
    )
    return yield* Effect.timeoutFail(first, { duration: Math.max(0, deadline - now), onTimeout: () => passed })
  }))
