/**
 * Arrival statistics from a real monitor following two loopback nodes, with the
 * effect clock under test so that every delay is exact.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, Stream, TestClock } from "effect"
import * as ArrivalStats from "../../src/arrivals/ArrivalStats.js"
import * as SlotClock from "../../src/health/SlotClock.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { headData } from "../support/chain.js"
import { waitFor } from "../support/wait.js"

const slotMs = 12_000

describe("ArrivalStats", () => {
  it.scoped("per-slot delays after the slot start, the first node of each slot, p50/p95 and late heads", () =>
    Effect.gen(function*() {
      const [a, b] = yield* Effect.all([
        BeaconNodeServer.make({ eagerHeaders: true }),
        BeaconNodeServer.make({ eagerHeaders: true })
      ])
      const context = yield* Layer.build(
        ArrivalStats.layer.pipe(
          Layer.provideMerge(HeadMonitor.layerNode([a.url, b.url], { slotDuration: "12 seconds", idleTimeout: "1 day" })),
          Layer.provideMerge(SlotClock.layer({ genesisTime: 0, slotDuration: slotMs }))
        )
      )
      const stats = yield* Effect.provide(ArrivalStats.ArrivalStats, context)
      const arrivals = yield* Effect.forkScoped(
        Effect.flatMap(stats.subscribe, (stream) => Stream.runCollect(Stream.take(stream, 4)))
      )
      yield* waitFor("both streams", Effect.sync(() => a.open === 1 && b.open === 1))
      const count = (n: number) =>
        waitFor(`${n} arrivals`, Effect.map(stats.snapshot, (s) => s.nodes.reduce((sum, x) => sum + x.arrivals, 0) === n))

      yield* TestClock.setTime(1 * slotMs + 150)
      a.send("head", headData(1))
      yield* count(1)
      yield* TestClock.setTime(1 * slotMs + 400)
      b.send("head", headData(1))
      a.send("head", headData(1)) // a repeat is no arrival
      yield* count(2)
      yield* TestClock.setTime(2 * slotMs + 50)
      b.send("head", headData(2))
      yield* count(3)
      yield* TestClock.setTime(2 * slotMs + 5_000)
      a.send("head", headData(2))
      yield* count(4)

      // Two slots after its start a head is a node catching up, not an arrival.
      const monitor = yield* Effect.provide(HeadMonitor.HeadMonitor, context)
      yield* TestClock.setTime(5 * slotMs)
      b.send("head", headData(3))
      yield* waitFor("b's catch-up head", Effect.map(monitor.status, (all) => all[1]!.head?.slot === 3))
      const snapshot = yield* stats.snapshot
      expect(snapshot).toMatchObject({ currentSlot: 5, slotMillis: slotMs, deadlineMillis: 4_000 })
      const [na, nb] = snapshot.nodes
      expect(na).toMatchObject({
        index: 0,
        arrivals: 2,
        slots: [
          { slot: 1, delay: 150, late: false, first: true, behindFirst: 0 },
          { slot: 2, delay: 5_000, late: true, first: false, behindFirst: 4_950 }
        ],
        firstSeen: { window: 1, total: 1 },
        delay: { p50: 150, p95: 5_000 },
        lateHeads: { window: 1, total: 1 }
      })
      expect(nb).toMatchObject({
        index: 1,
        arrivals: 2,
        slots: [
          { slot: 1, delay: 400, first: false, behindFirst: 250 },
          { slot: 2, delay: 50, first: true, behindFirst: 0 }
        ],
        firstSeen: { window: 1, total: 1 },
        delay: { p50: 50, p95: 400 },
        lateHeads: { window: 0, total: 0 }
      })
      const seen = Chunk.toReadonlyArray(yield* Fiber.join(arrivals))
      expect(seen.map((x) => [x.index, x.slot, x.delay, x.late])).toEqual([
        [0, 1, 150, false],
        [1, 1, 400, false],
        [1, 2, 50, false],
        [0, 2, 5_000, true]
      ])

      // Slots older than the window leave the per-slot figures, the totals stay. (The jump of the clock is no
      // silence: the idle limit is a day.)
      yield* TestClock.setTime((2 + ArrivalStats.window) * slotMs + 10)
      b.send("head", headData(2 + ArrivalStats.window))
      yield* count(5)
      const later = yield* stats.snapshot
      expect(later.nodes[0]).toMatchObject({ slots: [], firstSeen: { window: 0, total: 1 }, delay: undefined })
      expect(later.nodes[1]!.slots.map((x) => x.slot)).toEqual([2 + ArrivalStats.window])
      expect(later.nodes[1]!.firstSeen).toEqual({ window: 1, total: 2 })
    }))
})
