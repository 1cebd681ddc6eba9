/**
 * The answer of `GET /arrivals`: for every node in list order, when its heads
 * arrived after their slot's start over the last slots, which slots it saw
 * first, its p50/p95 delay and its late heads (`ArrivalStats`).
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { type ArrivalSnapshot, ArrivalStats, window } from "../arrivals/ArrivalStats.js"
import { Uint64String } from "../events/BeaconEvent.js"

const Count = Schema.NonNegativeInt

/** A count in the window and since the node joined the list. */
const WindowAndTotal = Schema.Struct({ window: Count, total: Count })

/**
 * @since 0.1.0
 * @category schemas
 */
export const NodeArrivals = Schema.Struct({
  /** Position in the current candidate list. */
  index: Count,
  /** Display form of the node's URL: secrets removed. */
  url: Schema.String,
  /** Heads that arrived since the node joined the list. */
  arrivals: Count,
  first_seen: WindowAndTotal,
  /** After the attestation deadline (a third into the slot). */
  late_heads: WindowAndTotal,
  /** Over the window's arrivals; `null` while there are none. */
  delay_ms: Schema.NullOr(Schema.Struct({ p50: Schema.Number, p95: Schema.Number })),
  /** Oldest slot first; slots the node missed are absent. */
  slots: Schema.Array(Schema.Struct({
    slot: Uint64String,
    /** After the slot's start. */
    delay_ms: Schema.Number,
    late: Schema.Boolean,
    first: Schema.Boolean,
    behind_first_ms: Schema.Number
  }))
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const ArrivalsResponse = Schema.Struct({
  data: Schema.Struct({
    current_slot: Uint64String,
    slot_ms: Schema.Number,
    /** The attestation deadline after a slot's start. */
    deadline_ms: Schema.Number,
    /** Slots the per-slot figures cover, up to and including `current_slot`. */
    window: Count,
    nodes: Schema.Array(NodeArrivals)
  })
})

/**
 * @since 0.1.0
 * @category constructors
 */
export const fromSnapshot = (snapshot: ArrivalSnapshot): typeof ArrivalsResponse.Type => ({
  data: {
    current_slot: Math.max(0, snapshot.currentSlot),
    slot_ms: snapshot.slotMillis,
    deadline_ms: snapshot.deadlineMillis,
    window,
    nodes: snapshot.nodes.map((node) => ({
      index: node.index,
      url: node.node.display,
      arrivals: node.arrivals,
      first_seen: node.firstSeen,
      late_heads: node.lateHeads,
      delay_ms: node.delay === undefined ? null : { p50: node.delay.p50, p95: node.delay.p95 },
      slots: node.slots.map((arrival) => ({
        slot: arrival.slot,
        delay_ms: arrival.delay,
        late: arrival.late,
        first: arrival.first,
        behind_first_ms: arrival.behindFirst
      }))
    }))
  }
})

/**
 * The figures now.
 *
 * @since 0.1.0
 * @category constructors
 */
export const current: Effect.Effect<typeof ArrivalsResponse.Type, never, ArrivalStats> = Effect.map(
  Effect.flatMap(ArrivalStats, (stats) => stats.snapshot),
  fromSnapshot
)
