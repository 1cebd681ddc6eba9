import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, TestClock } from "effect"
import { HeadCacheView } from "../../src/cache/HeadCacheView.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import { waitForHead } from "../../src/routing/WaitForHead.js"
import * as InMemoryTransport from "../../src/stream/InMemoryTransport.js"
import { headData } from "../support/chain.js"
import { eventually, scriptedMonitor, settle } from "../support/scripted.js"

/** A monitor following two scripted nodes in memory, under the TestClock (deadline 4 s after time 0). */
const withMonitor = <A, E>(
  body: (nodes: ReadonlyArray<InMemoryTransport.ScriptedNode>) => Effect.Effect<A, E, HeadMonitor.HeadMonitor | HeadCacheView>
) =>
  Effect.gen(function*() {
    const network = InMemoryTransport.make()
    const nodes = [network.node("http://a.test"), network.node("http://b.test")]
    return yield* Effect.gen(function*() {
      yield* eventually("both streams requested", Effect.sync(() => nodes.every((n) => n.open === 1)))
      return yield* body(nodes)
    }).pipe(Effect.provide(scriptedMonitor(network, nodes)))
  })

const cachedSlot = (slot: number) =>
  eventually(`a cached head at slot ${slot}`, Effect.map(Effect.flatMap(HeadCacheView, (c) => c.newestFirst), (heads) => heads.some((h) => h.slot === slot)))

describe("waitForHead", () => {
  it.scoped("resolves with the first head event of the slot, node included", () =>
    withMonitor((nodes) =>
      Effect.gen(function*() {
        const waiting = yield* Effect.fork(waitForHead(5, 4_000))
        yield* settle
        nodes[1]!.send("head", headData(5))
        const head = yield* Fiber.join(waiting)
        expect(head.node.display).toBe(nodes[1]!.node.display)
        expect([head.slot, head.block]).toEqual([5, headData(5).block])
      })
    ))

  it.scoped("resolves at once with a head that arrived before the call", () =>
    withMonitor((nodes) =>
      Effect.gen(function*() {
        nodes[0]!.send("head", headData(5))
        yield* cachedSlot(5)
        const head = yield* waitForHead(5, 4_000)
        expect(head.node.display).toBe(nodes[0]!.node.display)
      })
    ))

  it.scoped("fails with HeadDeadlinePassed when no head arrives by the deadline", () =>
    withMonitor(() =>
      Effect.gen(function*() {
        const waiting = yield* Effect.fork(waitForHead(5, 4_000))
        yield* TestClock.adjust("3999 millis")
        yield* settle
        expect(waiting.unsafePoll()).toBeNull()
        yield* TestClock.adjust("1 millis")
        const exit = yield* Fiber.await(waiting)
        expect(exit).toStrictEqual(Exit.fail(expect.objectContaining({ _tag: "HeadDeadlinePassed", slot: 5, deadline: 4_000 })))
      })
    ))

  it.scoped("ignores heads of other slots", () =>
    withMonitor((nodes) =>
      Effect.gen(function*() {
        const waiting = yield* Effect.fork(waitForHead(5, 4_000))
        yield* settle
        nodes[0]!.send("head", headData(4))
        nodes[1]!.send("head", headData(6))
        yield* cachedSlot(4)
        yield* cachedSlot(6)
        yield* settle
        expect(waiting.unsafePoll()).toBeNull()
        yield* TestClock.adjust("4 seconds")
        const error = yield* Effect.flip(Fiber.join(waiting))
        expect(error).toMatchObject({ _tag: "HeadDeadlinePassed", slot: 5 })
      })
    ))
})
