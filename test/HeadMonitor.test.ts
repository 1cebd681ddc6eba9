import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Stream } from "effect"
import * as BeaconNodeServer from "../src/simulator/BeaconNodeServer.js"
import * as HeadMonitor from "../src/monitor/HeadMonitor.js"
import { headData } from "./support/chain.js"

describe("HeadMonitor", () => {
  it.scopedLive("follows several nodes", () =>
    Effect.gen(function*() {
      const servers = yield* Effect.all([BeaconNodeServer.make(), BeaconNodeServer.make()])
      const layer = HeadMonitor.layerNode(servers.map((s) => s.url))
      yield* Effect.gen(function*() {
        const monitor = yield* HeadMonitor.HeadMonitor
        const heads = yield* monitor.subscribe
        const got = yield* Stream.take(heads, 4).pipe(Stream.runCollect, Effect.fork)
        while (servers.some((s) => s.requests === 0)) yield* Effect.sleep(5)
        for (const slot of [1, 2]) for (const s of servers) s.send("head", headData(slot))
        const events = Chunk.toArray(yield* Fiber.join(got))
        const bySlot = (slot: number) => events.filter((e) => e.slot === slot)
        for (const slot of [1, 2]) {
          expect(bySlot(slot).map((e) => e.index).sort()).toEqual([0, 1])
          // Exactly one node saw each slot first.
          expect(bySlot(slot).filter((e) => e.first)).toHaveLength(1)
        }
      }).pipe(Effect.provide(layer))
    }))
})
