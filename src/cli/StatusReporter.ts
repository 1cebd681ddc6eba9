/**
 * What the operator sees while the monitor runs.
 *
 * Everywhere: a log line per new head (which node saw it first) and per
 * connection-state change, with repeated failures of a node throttled: a
 * warning on its 1st, 2nd, 4th, 8th … consecutive failure, debug lines in
 * between, and an info line when it recovers. On a terminal, in addition, the
 * status table (`StatusTable`) pinned below the log lines, redrawn at the start of
 * each slot and at once on any change (a head, a state change, a list update).
 *
 * @since 0.1.0
 */
import { Effect, Queue, type Scope, Stream } from "effect"
import { CandidateList } from "../candidates/CandidateList.js"
import { SlotClock } from "../health/SlotClock.js"
import { FirstSeen } from "../metrics/FirstSeen.js"
import { HeadMonitor } from "../monitor/HeadMonitor.js"
import { isLive } from "../monitor/HeadEvent.js"
import type { NodeStatus } from "../monitor/NodeStatus.js"
import type { BeaconNodeId } from "../node/BeaconNode.js"
import type { Screen } from "./Screen.js"
import { render } from "./StatusTable.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface ReporterOptions {
  /** The terminal, when there is one: the status table is drawn there. */
  readonly screen: Screen | undefined
  /** Shown in the table's title (e.g. that the nodes are simulated). */
  readonly banner?: string | undefined
  readonly colors: boolean
}

/**
 * True when a power of two lies in `(after, upTo]`: the failures worth a warning.
 *
 * @since 0.1.0
 */
export const crossesPowerOfTwo = (after: number, upTo: number): boolean => {
  for (let power = 1; power <= upTo; power *= 2) if (power > after) return true
  return false
}

/** A node's failure streak, as far as the log has told it. */
interface Streak {
  /** The monitor's consecutive-failure count at the last failure seen (it resets when data flows). */
  attempt: number
  /** Failures since the node was last open. */
  failures: number
  /** In a quiet spell: its start was logged, its end will be. */
  quiet: boolean
}

const short = (root: string): string => `${root.slice(0, 10)}…`

/**
 * Runs the reporting fibers in the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const run = (
  options: ReporterOptions
): Effect.Effect<void, never, HeadMonitor | CandidateList | SlotClock | Scope.Scope> =>
  Effect.gen(function*() {
    const monitor = yield* HeadMonitor
    const candidates = yield* CandidateList
    const slotClock = yield* SlotClock
    const clock = yield* Effect.clock
    const firstSeen = new FirstSeen()
    const streaks = new Map<BeaconNodeId, Streak>()
    // Wake-ups of the table's redraw; a sliding queue of one coalesces a burst of changes into one redraw.
    const wake = yield* Queue.sliding<void>(1)
    const changed = () => Queue.unsafeOffer(wake, undefined)

    const streakOf = (status: NodeStatus): Streak => {
      let streak = streaks.get(status.node.id)
      if (streak === undefined) {
        streak = { attempt: 0, failures: 0, quiet: false }
        streaks.set(status.node.id, streak)
      }
      return streak
    }

    const onStatus = (status: NodeStatus) =>
      Effect.gen(function*() {
        changed()
        // Published just before the node was removed and read after: it must not bring back a streak the list update dropped.
        if (!(yield* candidates.get).positions.has(status.node.id)) return
        const streak = streakOf(status)
        const { state } = status
        const node = status.node.display
        const wasQuiet = streak.quiet
        streak.quiet = state._tag === "Quiet"
        switch (state._tag) {
          case "Connecting":
            return yield* Effect.logDebug("connecting").pipe(Effect.annotateLogs({ node, attempt: state.attempt }))
          case "Quiet":
            return wasQuiet ? undefined : yield* Effect.logInfo("quiet chain: stream silent, the node confirms its head")
              .pipe(Effect.annotateLogs({ node, index: status.index, silentMs: state.confirmedAt - state.silentSince }))
          case "Open": {
            if (wasQuiet) {
              return yield* Effect.logInfo("stream delivers again").pipe(Effect.annotateLogs({ node, index: status.index }))
            }
            const failures = streak.failures
            streak.failures = 0
            return yield* failures === 0
              ? Effect.logInfo("stream open").pipe(Effect.annotateLogs({ node, index: status.index }))
              : Effect.logInfo("stream recovered").pipe(Effect.annotateLogs({ node, index: status.index, failures }))
          }
          case "Backoff":
          case "Stalled":
          case "Rejected": {
            // The count only grows while no data flows: a smaller one starts a new streak.
            const previous = state.attempt <= streak.attempt ? 0 : streak.attempt
            streak.attempt = state.attempt
            streak.failures++
            const line = Effect.annotateLogs({
              node,
              index: status.index,
              state: state._tag.toLowerCase(),
              reason: state.reason,
              detail: state.detail,
              failures: state.attempt,
              retryInMs: Math.max(0, Math.round(state.nextAttemptAt - state.since))
            })
            return yield* crossesPowerOfTwo(previous, state.attempt)
              ? line(Effect.logWarning("stream failed"))
              : line(Effect.logDebug("stream failed"))
          }
        }
      })

    const statuses = yield* monitor.subscribeStatus
    yield* Effect.forkScoped(Stream.runForEach(statuses, onStatus))

    const heads = yield* monitor.subscribe
    yield* Effect.forkScoped(Stream.runForEach(heads, (event) =>
      Effect.suspend(() => {
        changed()
        const delay = firstSeen.record(event)
        const node = `[${event.index}] ${event.node.display}`
        if (event.first && isLive(event)) {
          return Effect.logInfo("new head").pipe(
            Effect.annotateLogs({ slot: event.slot, block: short(event.block), first: node })
          )
        }
        return Effect.logDebug("head seen").pipe(
          Effect.annotateLogs({ slot: event.slot, node, outcome: event.outcome, delayMs: delay ?? "-" })
        )
      })))

    // List updates: forget removed nodes' streaks, redraw at once.
    yield* Effect.forkScoped(Stream.runForEach(candidates.changes, (list) =>
      Effect.sync(() => {
        changed()
        const keep = new Set(list.nodes.map((node) => node.id))
        for (const id of streaks.keys()) if (!keep.has(id)) streaks.delete(id)
      })))

    const { screen } = options
    if (screen === undefined) return
    const draw = Effect.gen(function*() {
      const now = clock.unsafeCurrentTimeMillis()
      const nodes = yield* monitor.status
      const { version } = yield* candidates.get
      screen.show(render({
        now,
        slot: slotClock.slotAt(now),
        listVersion: version,
        nodes,
        lagOf: (status) => status.head && firstSeen.delayOf(status.head.slot, status.head.receivedAt),
        banner: options.banner,
        colors: options.colors
      }))
    })
    yield* Effect.forkScoped(Effect.forever(Effect.zipRight(Queue.take(wake), draw)))
    // And at the start of every slot.
    const nextSlot = Effect.gen(function*() {
      const now = clock.unsafeCurrentTimeMillis()
      yield* Effect.sleep(slotClock.startOf(slotClock.slotAt(now) + 1) - now)
      changed()
    })
    yield* Effect.forkScoped(Effect.forever(nextSlot))
    yield* Effect.addFinalizer(() => Effect.sync(() => screen.release()))
  })
