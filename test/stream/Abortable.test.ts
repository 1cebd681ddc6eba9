/**
 * A transport's wait that the request's signal ends: the first outcome counts,
 * an abort fails it with the signal's reason, and nothing listens once it ended.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { getEventListeners } from "node:events"
import { BeaconStreamError } from "../../src/stream/BeaconStreamError.js"
import { abortable } from "../../src/stream/StreamTransport.js"

const stalled = new BeaconStreamError({ node: "http://a.test", reason: "stalled", detail: "no data" })

describe("abortable", () => {
  it.effect("fails with the reason of a signal aborted before the wait, without starting it", () =>
    Effect.gen(function*() {
      const controller = new AbortController()
      controller.abort(stalled)
      let started = false
      const exit = yield* Effect.exit(abortable<number>(controller.signal, () => {
        started = true
      }))
      expect(exit).toEqual(Exit.fail(stalled))
      expect(started).toBe(false)
    }))

  it.effect("fails with the reason of an abort during the wait", () =>
    Effect.gen(function*() {
      const controller = new AbortController()
      const fiber = yield* Effect.fork(abortable<number>(controller.signal, () => {}))
      yield* Effect.yieldNow()
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(1)
      controller.abort(stalled)
      expect(yield* Effect.exit(Fiber.join(fiber))).toEqual(Exit.fail(stalled))
    }))

  it.effect("keeps the first outcome, builds no later one, and stops listening once settled", () =>
    Effect.gen(function*() {
      const controller = new AbortController()
      let built = 0
      const value = yield* abortable<number>(controller.signal, (settle) => {
        settle(() => Effect.succeed(1))
        settle(() => {
          built++
          return Effect.succeed(2)
        })
      })
      expect(value).toBe(1)
      expect(built).toBe(0)
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(0)
    }))
})
