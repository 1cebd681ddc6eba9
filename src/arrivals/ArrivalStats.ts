/**
 * When each node's heads arrive, measured from the start of their slot: the
 * figures behind the page's arrival chart and "who saw it first", the admin
 * API's `/arrivals` and the arrival metrics.
 *
 * Fed with the monitor's live head events: a node's first live head of a slot
 * is its arrival for that slot (a repeat, a replayed burst or a second block at
 * the same slot is not), if it came within two slots of the slot's start: later
 * heads are a node catching up (a restarted node's burst of old heads, whose
 * own head the monitor dropped with its connection), not arrivals. The first
 * node of a slot is the one with the earliest
 * arrival, so events published out of arrival order (each node's fiber
 * publishes on its own) still credit the right node. Per-slot figures cover the
 * last `window` slots by the slot clock; the counts since start cover every
 * slot seen while the node was in the list.
 *
 * @since 0.1.0
 */
import { Context, Duration, Effect, Layer, type Scope, Stream } from "effect"
import { CandidateList } from "../candidates/CandidateList.js"
import type { Root } from "../events/BeaconEvent.js"
import { SlotClock } from "../health/SlotClock.js"
import { makeBroadcast } from "../monitor/Broadcast.js"
import { isLive } from "../monitor/HeadEvent.js"
import { HeadMonitor } from "../monitor/HeadMonitor.js"
import type { BeaconNode, BeaconNodeId } from "../node/BeaconNode.js"

/**
 * Slots the per-slot figures cover.
 *
 * @since 0.1.0
 */
export const window = 64

/**
 * One node's head arriving for a slot.
 *
 * @since 0.1.0
 * @category models
 */
export interface Arrival {
  readonly node: BeaconNode
  /** The node's position in the candidate list when the head arrived. */
  readonly index: number
  readonly slot: number
  readonly block: Root
  /** Epoch milliseconds of the effect `Clock`. */
  readonly receivedAt: number
  /** Milliseconds after the slot's start (negative if the node's head came before our clock's slot start). */
  readonly delay: number
  /** Arrived after the attestation deadline, a third into the slot. */
  readonly late: boolean
}

/**
 * A node's arrival in one slot of the window.
 *
 * @since 0.1.0
 * @category models
 */
export interface SlotArrival {
  readonly slot: number
  readonly delay: number
  readonly late: boolean
  /** This node's head of the slot arrived before every other node's. */
  readonly first: boolean
  /** Milliseconds behind the slot's first arrival (0 for the first). */
  readonly behindFirst: number
}

/**
 * One node's figures.
 *
 * @since 0.1.0
 * @category models
 */
export interface NodeArrivals {
  readonly node: BeaconNode
  /** Position in the current candidate list. */
  readonly index: number
  /** Arrivals in the window, oldest slot first (slots the node missed are absent). */
  readonly slots: ReadonlyArray<SlotArrival>
  /** Slots this node saw first: in the window, and since it joined the list. */
  readonly firstSeen: { readonly window: number; readonly total: number }
  /** Median and 95th percentile of `delay` over the window (nearest rank), when it has arrivals. */
  readonly delay: { readonly p50: number; readonly p95: number } | undefined
  /** Heads that arrived after the deadline: in the window, and since the node joined the list. */
  readonly lateHeads: { readonly window: number; readonly total: number }
  /** Arrivals since the node joined the list. */
  readonly arrivals: number
}

/**
 * Every node's figures, in list order.
 *
 * @since 0.1.0
 * @category models
 */
export interface ArrivalSnapshot {
  /** The slot now, by the slot clock: the window is the `window` slots up to and including it. */
  readonly currentSlot: number
  readonly slotMillis: number
  /** The attestation deadline, milliseconds after a slot's start (a third of a slot). */
  readonly deadlineMillis: number
  readonly nodes: ReadonlyArray<NodeArrivals>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ArrivalStatsService {
  /** The slot length the figures use (the slot clock's). */
  readonly slotMillis: number
  /** Every node's figures now. */
  readonly snapshot: Effect.Effect<ArrivalSnapshot>
  /** Subscribes now to every arrival from here on (each subscriber reads its own sliding buffer). */
  readonly subscribe: Effect.Effect<Stream.Stream<Arrival>, never, Scope.Scope>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class ArrivalStats extends Context.Tag("beacon-head-monitor/ArrivalStats")<ArrivalStats, ArrivalStatsService>() {}

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!

interface NodeRecord {
  /** Arrival per slot, slots in insertion order (ascending as a rule). */
  readonly slots: Map<number, Arrival>
  firstTotal: number
  lateTotal: number
  arrivals: number
}

/**
 * Follows the monitor's heads for as long as the scope lives.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<ArrivalStatsService, never, HeadMonitor | CandidateList | SlotClock | Scope.Scope> =
  Effect.gen(function*() {
    const monitor = yield* HeadMonitor
    const candidates = yield* CandidateList
    const slotClock = yield* SlotClock
    const slotMillis = Duration.toMillis(slotClock.slotDuration)
    const deadlineMillis = slotMillis / 3
    const records = new Map<BeaconNodeId, NodeRecord>()
    /** The earliest arrival of each slot in the window. */
    const firsts = new Map<number, Arrival>()
    const arrivals = yield* makeBroadcast<Arrival>(1024)
    let highest = Number.NEGATIVE_INFINITY

    const recordOf = (id: BeaconNodeId): NodeRecord => {
      let record = records.get(id)
      if (record === undefined) {
        record = { slots: new Map(), firstTotal: 0, lateTotal: 0, arrivals: 0 }
        records.set(id, record)
      }
      return record
    }

    /** Drops what fell out of the window (slots older than `window` before the newest seen). */
    const evict = () => {
      const oldest = highest - window + 1
      for (const slot of firsts.keys()) if (slot < oldest) firsts.delete(slot)
      for (const record of records.values()) {
        for (const slot of record.slots.keys()) {
          if (slot >= oldest) break
          record.slots.delete(slot)
        }
      }
    }

    const record = (arrival: Arrival): Effect.Effect<void> => {
      if (arrival.slot <= highest - window) return Effect.void
      const own = recordOf(arrival.node.id)
      if (own.slots.has(arrival.slot)) return Effect.void
      own.slots.set(arrival.slot, arrival)
      own.arrivals++
      if (arrival.late) own.lateTotal++
      const first = firsts.get(arrival.slot)
      if (first === undefined || arrival.receivedAt < first.receivedAt) {
        if (first !== undefined) {
          const previous = records.get(first.node.id)
          if (previous !== undefined) previous.firstTotal--
        }
        own.firstTotal++
        firsts.set(arrival.slot, arrival)
      }
      if (arrival.slot > highest) {
        highest = arrival.slot
        evict()
      }
      return arrivals.publish(arrival)
    }

    const heads = yield* monitor.subscribe
    yield* Effect.forkScoped(Stream.runForEach(heads, (event) =>
      Effect.suspend(() => {
        if (!isLive(event)) return Effect.void
        const delay = event.receivedAt - slotClock.startOf(event.slot)
        if (delay >= 2 * slotMillis) return Effect.void
        return record({
          node: event.node,
          index: event.index,
          slot: event.slot,
          block: event.block,
          receivedAt: event.receivedAt,
          delay,
          late: delay > deadlineMillis
        })
      })))
    // A node that leaves the list starts from nothing if it comes back.
    yield* Effect.forkScoped(Stream.runForEach(candidates.changes, (list) =>
      Effect.sync(() => {
        for (const id of records.keys()) if (!list.positions.has(id)) records.delete(id)
      })))

    const figures = (node: BeaconNode, index: number, own: NodeRecord | undefined, oldest: number): NodeArrivals => {
      const slots: Array<SlotArrival> = []
      const delays: Array<number> = []
      let firstWindow = 0
      let lateWindow = 0
      for (const arrival of own?.slots.values() ?? []) {
        if (arrival.slot < oldest) continue
        const first = firsts.get(arrival.slot)
        const isFirst = first === arrival
        if (isFirst) firstWindow++
        if (arrival.late) lateWindow++
        delays.push(arrival.delay)
        slots.push({
          slot: arrival.slot,
          delay: arrival.delay,
          late: arrival.late,
          first: isFirst,
          behindFirst: first === undefined ? 0 : arrival.receivedAt - first.receivedAt
        })
      }
      slots.sort((a, b) => a.slot - b.slot)
      delays.sort((a, b) => a - b)
      return {
        node,
        index,
        slots,
        firstSeen: { window: firstWindow, total: own?.firstTotal ?? 0 },
        delay: delays.length === 0 ? undefined : { p50: percentile(delays, 0.5), p95: percentile(delays, 0.95) },
        lateHeads: { window: lateWindow, total: own?.lateTotal ?? 0 },
        arrivals: own?.arrivals ?? 0
      }
    }

    const snapshot = Effect.gen(function*() {
      const list = yield* candidates.get
      const currentSlot = yield* slotClock.currentSlot
      const oldest = Math.max(currentSlot, highest) - window + 1
      return {
        currentSlot,
        slotMillis,
        deadlineMillis,
        nodes: list.nodes.map((node, index) => figures(node, index, records.get(node.id), oldest))
      }
    })

    return { slotMillis, snapshot, subscribe: arrivals.subscribe }
  })

/**
 * The statistics of the monitor's heads. Needs the monitor, its candidate list
 * and the chain's slot clock.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<ArrivalStats, never, HeadMonitor | CandidateList | SlotClock> = Layer.scoped(
  ArrivalStats,
  make
)
