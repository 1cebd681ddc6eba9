/**
 * The chunks of events that the nodes' connections delivered in one turn of
 * the event loop, handled together.
 *
 * When many nodes write at once (every node announces the same head within
 * milliseconds), each event arrives in a chunk of its own, on its own socket.
 * Handled one by one, every chunk paid a fiber run, a cache update, a publish
 * and a wake-up of every subscriber. Here a chunk is only queued (plain
 * JavaScript in the socket's callback) and the queue is handled once Node has
 * read every socket that was ready: in one fiber run, with one publish, so that
 * a subscriber wakes once for what is ready.
 *
 * @since 0.1.0
 * @internal
 */
import { Effect, Exit, Runtime, type Scope } from "effect"

/**
 * @internal
 */
export interface Arrivals<A> {
  /** Queues one chunk; the first of a turn schedules the handling for when Node has read the sockets. */
  readonly add: (arrival: A) => void
  /** Handles what is queued, now: before a connection's failure is handled, its last events are. */
  readonly flush: Effect.Effect<void>
}

/**
 * Queued arrivals are handled by `handle`, which must not fail (a defect is
 * logged); when the scope closes, what is still queued is dropped.
 *
 * @internal
 */
export const make = <A>(
  handle: (arrivals: ReadonlyArray<A>) => Effect.Effect<void>
): Effect.Effect<Arrivals<A>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const runSync = Runtime.runSyncExit(runtime)
    const runFork = Runtime.runFork(runtime)
    let queued: Array<A> = []
    let scheduled = false
    let closed = false
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
        queued = []
      })
    )

    const flush = Effect.suspend(() => {
      if (queued.length === 0) return Effect.void
      const arrivals = queued
      queued = []
      return handle(arrivals)
    })

    // `setImmediate` runs after the poll phase, in which Node reads every socket that is ready: a microtask would
    // run after each socket's callback, one chunk at a time.
    const onImmediate = () => {
      scheduled = false
      if (closed) return
      const exit = runSync(flush)
      // A throw here would end the process: a bug in the handling is logged instead.
      if (Exit.isFailure(exit)) runFork(Effect.logError("handling the nodes' events failed", exit.cause))
    }

    return {
      add: (arrival) => {
        if (closed) return
        queued.push(arrival)
        if (scheduled) return
        scheduled = true
        setImmediate(onImmediate)
      },
      flush
    }
  })
