/**
 * One stall watchdog for many connections (TestClock): each connection's silence is judged at its own due time,
 * not before; bytes put it off; a judgement re-arms it; a closed connection is no longer watched; a connection due
 * before the sleeping watchdog would wake is judged on time. And a connection given no watchdog makes its own.
 */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber, Scope, TestClock } from "effect"
import * as BeaconEventStream from "../../src/stream/BeaconEventStream.js"
import * as InMemoryTransport from "../../src/stream/InMemoryTransport.js"
import * as Watchdog from "../../src/stream/Watchdog.js"

const settle = Effect.repeatN(Effect.yieldNow(), 20)

/**
 * A connection as the watchdog sees it: judged `idle` after its last byte or judgement; each judgement is recorded
 * (`name@time`) and keeps it.
 */
const connection = (name: string, idle: number, judged: Array<string>) => {
  const state = { lastByteAt: 0, judgedAt: 0 }
  const watched: Watchdog.Watched = {
    dueAt: () => Math.max(state.lastByteAt, state.judgedAt) + idle,
    judge: Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        judged.push(`${name}@${now}`)
        state.judgedAt = now
      }))
  }
  return { state, watched }
}

describe("Watchdog", () => {
  it.scoped("judges each connection at its own due time, not before, and again one idle period after", () =>
    Effect.gen(function*() {
      const watchdog = yield* Watchdog.make
      const judged: Array<string> = []
      yield* watchdog.watch(connection("a", 5_000, judged).watched)
      yield* watchdog.watch(connection("b", 3_000, judged).watched)
      yield* TestClock.adjust(2_999)
      yield* settle
      expect(judged).toEqual([])
      yield* TestClock.adjust(1)
      yield* settle
      expect(judged).toEqual(["b@3000"])
      yield* TestClock.adjust(7_000)
      yield* settle
      expect(judged).toEqual(["b@3000", "a@5000", "b@6000", "b@9000", "a@10000"])
    }))

  it.scoped("bytes put the judgement off", () =>
    Effect.gen(function*() {
      const watchdog = yield* Watchdog.make
      const judged: Array<string> = []
      const a = connection("a", 5_000, judged)
      yield* watchdog.watch(a.watched)
      yield* TestClock.adjust(4_000)
      a.state.lastByteAt = 4_000
      yield* TestClock.adjust(4_999)
      yield* settle
      expect(judged).toEqual([])
      yield* TestClock.adjust(1)
      yield* settle
      expect(judged).toEqual(["a@9000"])
    }))

  it.scoped("a closed connection is no longer watched, and its judgement in progress ends with it", () =>
    Effect.gen(function*() {
      const watchdog = yield* Watchdog.make
      const judged: Array<string> = []
      let interrupted = false
      const scope = yield* Scope.make()
      // Its judgement hangs, and only a judgement that ends re-arms it (as a connection's does): it stays due.
      const hanging: Watchdog.Watched = {
        dueAt: () => 1_000,
        judge: Effect.zipRight(
          Effect.sync(() => judged.push("a@1000")),
          Effect.onInterrupt(Effect.never, () => Effect.sync(() => interrupted = true))
        )
      }
      yield* Scope.extend(watchdog.watch(hanging), scope)
      yield* watchdog.watch(connection("b", 4_000, judged).watched)
      yield* TestClock.adjust(1_000)
      yield* settle
      expect([judged, interrupted]).toEqual([["a@1000"], false])
      yield* Scope.close(scope, Exit.void)
      expect(interrupted).toBe(true)
      yield* TestClock.adjust(10_000)
      yield* settle
      expect(judged).toEqual(["a@1000", "b@4000", "b@8000"])
    }))

  it.scoped("a connection due before the watchdog would wake is judged on time", () =>
    Effect.gen(function*() {
      const watchdog = yield* Watchdog.make
      const judged: Array<string> = []
      yield* watchdog.watch(connection("slow", 10_000, judged).watched)
      yield* TestClock.adjust(1_000)
      const fast = connection("fast", 2_000, judged)
      fast.state.lastByteAt = 1_000
      yield* watchdog.watch(fast.watched)
      yield* TestClock.adjust(2_000)
      yield* settle
      expect(judged).toEqual(["fast@3000"])
    }))
})

describe("BeaconEventStream.run without a shared watchdog", () => {
  it.scoped("makes its own: a stream silent for the idle limit fails as stalled, at the limit", () =>
    Effect.gen(function*() {
      const network = InMemoryTransport.make()
      const node = network.node("http://a.test")
      node.answer = { _tag: "stream", eagerHeaders: true }
      const fiber = yield* BeaconEventStream.run(node.node, { idleTimeout: "5 seconds", maxEventSize: 1024 }, () => {}).pipe(
        Effect.provide(network.layer),
        Effect.fork
      )
      yield* TestClock.adjust(4_999)
      yield* settle
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust(1)
      const exit = yield* Fiber.await(fiber)
      expect(exit).toMatchObject({ _tag: "Failure", cause: { error: { reason: "stalled", detail: "no data for 5s" } } })
    }))

  it.scoped("asks onIdle once when its answer drops the connection", () =>
    Effect.gen(function*() {
      const network = InMemoryTransport.make()
      const node = network.node("http://a.test")
      node.answer = { _tag: "stream", eagerHeaders: true }
      let asked = 0
      const onIdle = Effect.suspend(() => {
        asked++
        return Effect.fail("the node's head moved on")
      })
      const fiber = yield* BeaconEventStream.run(node.node, { idleTimeout: "5 seconds", maxEventSize: 1024, onIdle }, () => {})
        .pipe(Effect.provide(network.layer), Effect.fork)
      yield* TestClock.adjust(5_000)
      const exit = yield* Fiber.await(fiber)
      yield* settle
      expect(exit).toMatchObject({ _tag: "Failure", cause: { error: { reason: "stalled" } } })
      expect(asked).toBe(1)
    }))
})
