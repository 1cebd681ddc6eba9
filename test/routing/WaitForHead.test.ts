import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, TestClock } from "effect"
import { HeadCacheView } from "../../src/cache/HeadCacheView.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import { waitForHead } from "../../src/routing/WaitForHead.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { headData } from "../support/chain.js"
import { tick, waitFor } from "../support/wait.js"

/** A monitor following two real servers, under the TestClock (deadline 4 s after time 0). */
const withMonitor = <A, E>(
  body: (servers: ReadonlyArray<BeaconNodeServer.BeaconNodeServer>) => Effect.Effect<A, E, HeadMonitor.HeadMonitor | HeadCacheView>
) =>
  Effect.gen(function*() {
    const servers = yield* Effect.all([BeaconNodeServer.make(), BeaconNodeServer.make()])
    return yield* Effect.gen(function*() {
      yield* waitFor("both streams open", Effect.sync(() => servers.every((s) => s.open === 1)))
      return yield* body(servers)
    }).pipe(Effect.provide(HeadMonitor.layerNode(servers.map((s) => s.url))))
  })

const cachedSlot = (slot: number) =>
  waitFor(`a cached head at slot ${slot}`, Effect.map(Effect.flatMap(HeadCacheView, (c) => c.newestFirst), (heads) => heads.some((h) => h.slot === slot)))

describe("waitForHead", () => {
  it.scoped("resolves with the first head event of the slot, node included", () =>
    withMonitor((servers) =>
      Effect.gen(function*() {
        const waiting = yield* Effect.fork(waitForHead(5, 4_000))
        yield* tick(20)
        servers[1]!.send("head", headData(5))
        const head = yield* Fiber.join(waiting)
        expect(head.node.display).toBe(servers[1]!.url)
        expect([head.slot, head.block]).toEqual([5, headData(5).block])
      })
    ))

  it.scoped("resolves at once with a head that arrived before the call", () =>
    withMonitor((servers) =>
      Effect.gen(function*() {
        servers[0]!.send("head", headData(5))
        yield* cachedSlot(5)
        const head = yield* waitForHead(5, 4_000)
        expect(head.node.display).toBe(servers[0]!.url)
      })
    ))

  it.scoped("fails with HeadDeadlinePassed when no head arrives by the deadline", () =>
    withMonitor(() =>
      Effect.gen(function*() {
        const waiting = yield* Effect.fork(waitForHead(5, 4_000))
        yield* TestClock.adjust("3999 millis")
        yield* tick(20)
        expect(waiting.unsafePoll()).toBeNull()
        yield* TestClock.adjust("1 millis")
        const exit = yield* Fiber.await(waiting)
        expect(exit).toStrictEqual(Exit.fail(expect.objectContaining({ _tag: "HeadDeadlinePassed", slot: 5, deadline: 4_000 })))
      })
    ))

  it.scoped("ignores heads of other slots", () =>
    withMonitor((servers) =>
      Effect.gen(function*() {
        const waiting = yield* Effect.fork(waitForHead(5, 4_000))
        yield* tick(20)
        servers[0]!.send("head", headData(4))
        servers[1]!.send("head", headData(6))
        yield* cachedSlot(4)
        yield* cachedSlot(6)
        yield* tick(20)
        expect(waiting.unsafePoll()).toBeNull()
        yield* TestClock.adjust("4 seconds")
        const error = yield* Effect.flip(Fiber.join(waiting))
        expect(error).toMatchObject({ _tag: "HeadDeadlinePassed", slot: 5 })
      })
    ))
})
