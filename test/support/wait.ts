/** Waiting on real I/O from tests, also when the effect clock is the TestClock. */
import { Effect } from "effect"

/** One real-time pause: lets sockets and the node fibers make progress whatever the effect clock is. */
export const tick = (ms = 2): Effect.Effect<void> => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, ms)))

/**
 * Polls until `check` yields a value other than `undefined` or `false`; dies after `timeoutMs` of real time
 * with `what` in the message, so a broken expectation fails fast and says why.
 */
export const waitFor = <A, E, R>(
  what: string,
  check: Effect.Effect<A | undefined | false, E, R>,
  timeoutMs = 5_000
): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    while (true) {
      const value = yield* check
      if (value !== undefined && value !== false) return value
      if (Date.now() > deadline) return yield* Effect.dieMessage(`timed out waiting for ${what}`)
      yield* tick()
    }
  })
