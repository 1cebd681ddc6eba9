/**
 * The stall watchdog of many connections: one fiber that sleeps until the
 * earliest moment a watched connection's silence is due to be judged, in
 * place of a fiber and a timer per connection (≈3.5 KiB live per followed
 * node at 1,000 nodes). A connection given none makes one of its own (see
 * `BeaconEventStream.ConnectOptions.watchdog`).
 *
 * Time is the effect `Clock`'s, so `TestClock` drives it in tests.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Exit, FiberHandle, Runtime, type Scope } from "effect"

/**
 * One connection as the watchdog sees it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Watched {
  /**
   * When its silence is due to be judged, in the `Clock`'s milliseconds; it moves later as bytes arrive, and is
   * `Infinity` once the connection needs no more judging (a judgement dropped it).
   */
  readonly dueAt: () => number
  /** Judges the silence (it may ask the node, and take a while); the connection is not due again meanwhile. */
  readonly judge: Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Watchdog {
  /** Watches a connection until `scope` closes; its judgements run in that scope, so they end with it. */
  readonly watch: (watched: Watched) => Effect.Effect<void, never, Scope.Scope>
}

interface Entry {
  readonly watched: Watched
  /**
   * Starts a judgement as a fiber of the watching connection would be (its services, its fiber refs, its scope),
   * on its own turn, not inside the sweep.
   */
  readonly start: () => void
  judging: boolean
}

/**
 * A watchdog whose fiber lives in the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Watchdog, never, Scope.Scope> = Effect.gen(function*() {
  const clock = yield* Effect.clock
  const entries = new Set<Entry>()
  // The sweeper: replaced (the running one interrupted while it sleeps) when something is due before it wakes.
  const sweeper = yield* FiberHandle.make<void>()
  /** When the running sweeper looks next; `Infinity`: it is not running (nothing to watch, or all judging). */
  let wakeAt = Infinity

  /** Starts the judgements that are due; answers how long until the next one is. */
  const judgeDue = Effect.sync(() => {
    const now = clock.unsafeCurrentTimeMillis()
    let next = Infinity
    const due: Array<Entry> = []
    for (const entry of entries) {
      if (entry.judging) continue
      const at = entry.watched.dueAt()
      if (at > now) next = Math.min(next, at)
      else due.push(entry)
    }
    wakeAt = next
    for (const entry of due) {
      entry.judging = true
      entry.start()
    }
    return next - now
  })
  const sweep: Effect.Effect<void> = Effect.flatMap(
    judgeDue,
    (left) => left === Infinity ? Effect.void : Effect.zipRight(clock.sleep(Duration.millis(left)), sweep)
  )
  /** Makes sure the sweeper looks at `at` at the latest. */
  const lookAt = (at: number): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (at >= wakeAt) return Effect.void
      wakeAt = at
      return Effect.asVoid(FiberHandle.run(sweeper, sweep))
    })
  const judged = (entry: Entry): Effect.Effect<void> =>
    Effect.onExit(entry.watched.judge, (exit) =>
      Effect.suspend(() => {
        entry.judging = false
        // Interrupted, the judgement ends with its connection's scope, which is closing: nothing more to judge.
        return Exit.isInterrupted(exit) || !entries.has(entry) ? Effect.void : lookAt(entry.watched.dueAt())
      }))

  return {
    watch: (watched) =>
      Effect.gen(function*() {
        const scope = yield* Effect.scope
        const runFork = Runtime.runFork(yield* Effect.runtime<never>())
        const entry: Entry = { watched, judging: false, start: () => runFork(judged(entry), { scope, immediate: false }) }
        yield* Effect.acquireRelease(Effect.sync(() => entries.add(entry)), () => Effect.sync(() => entries.delete(entry)))
        yield* lookAt(watched.dueAt())
      })
  }
})
