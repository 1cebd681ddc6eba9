import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, TestClock } from "effect"
import type { HeadMonitorService } from "../../src/monitor/HeadMonitor.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { captureLogs } from "../health/logs.js"
import { headData } from "../support/chain.js"
import { statusOf, withMonitor } from "../support/monitor.js"
import { tick, waitFor } from "../support/wait.js"

type Server = BeaconNodeServer.BeaconNodeServer

/** A node whose `/eth/v1/config/spec` tells `spec` (e.g. `{ SECONDS_PER_SLOT: "5" }`). */
const node = (spec: Readonly<Record<string, string>>, eagerHeaders = true) =>
  Effect.tap(BeaconNodeServer.make({ eagerHeaders }), (server) =>
    Effect.sync(() => server.route("/eth/v1/config/spec", () => ({ status: 200, body: { data: spec } }))))

const stateOf = (monitor: HeadMonitorService, server: Server) =>
  Effect.map(statusOf(monitor, server), (status) => status.state)

for (const seconds of [2, 5, 12]) {
  const slot = seconds * 1000
  describe(`a ${seconds}-s chain, its slot read from the nodes (TestClock)`, () => {
    it.scoped("a node silent while another advanced is dropped one slot later, not a tick before", () =>
      Effect.gen(function*() {
        const spec = { SECONDS_PER_SLOT: String(seconds) }
        const [a, b, silent] = yield* Effect.all([node(spec), node(spec), node(spec)])
        yield* withMonitor([a, b, silent], (monitor) =>
          Effect.gen(function*() {
            expect(Duration.toMillis(monitor.options.slotDuration)).toBe(slot)
            expect(Duration.toMillis(monitor.options.idleTimeout)).toBe(3 * slot)
            yield* waitFor("all open", Effect.map(monitor.status, (all) => all.every((s) => s.state._tag === "Open")))
            // A slot without blocks: nobody advances, nobody is dropped.
            yield* TestClock.adjust(slot)
            a.send("head", headData(1))
            b.send("head", headData(1))
            yield* waitFor("heads", Effect.map(monitor.status, (all) => all.filter((s) => s.head?.slot === 1).length === 2))
            yield* TestClock.adjust(slot - 1)
            yield* tick(20)
            expect((yield* stateOf(monitor, silent))._tag).toBe("Open")
            yield* TestClock.adjust(1)
            const dropped = yield* waitFor("stalled", Effect.map(stateOf(monitor, silent), (s) => s._tag === "Stalled" && s))
            expect(dropped.detail).toBe("no data for a slot while other nodes reached slot 1")
            // The nodes that advanced are untouched.
            expect([a.requests, b.requests]).toEqual([1, 1])
          }))
      }))

    it.scoped("the retry cap is half a slot, jitter included", () =>
      Effect.gen(function*() {
        const up = yield* node({ SECONDS_PER_SLOT: String(seconds) })
        const down = yield* BeaconNodeServer.make()
        yield* Effect.promise(() => down.stop())
        yield* withMonitor([up, down], (monitor) =>
          Effect.gen(function*() {
            expect(Duration.toMillis(monitor.options.retry.maxDelay)).toBe(slot / 2)
            const delays: Array<number> = []
            for (let attempt = 1; attempt <= 7; attempt++) {
              const waiting = yield* waitFor(`attempt ${attempt}`, Effect.map(stateOf(monitor, down), (s) =>
                s._tag === "Backoff" && s.attempt === attempt && s))
              delays.push(waiting.nextAttemptAt - waiting.since)
              yield* TestClock.adjust(delays[delays.length - 1]!)
            }
            // Jitter pinned at its top (1.2): below the cap 1.2 × the step, at the cap the cap itself.
            const expected = [250, 500, 1000, 2000, 4000, 8000, 16000].map((step) => Math.min(step * 1.2, slot / 2))
            expect(delays.map(Math.round)).toEqual(expected)
          }), undefined, 1)
      }))

    it.scoped("lagging counts this chain's slots", () =>
      Effect.gen(function*() {
        const spec = { SECONDS_PER_SLOT: String(seconds) }
        const [ahead, behind] = yield* Effect.all([node(spec), node(spec)])
        yield* withMonitor([ahead, behind], (monitor) =>
          Effect.gen(function*() {
            yield* waitFor("open", Effect.map(monitor.status, (all) => all.every((s) => s.state._tag === "Open")))
            behind.send("head", headData(1))
            yield* waitFor("slot 1", Effect.map(statusOf(monitor, behind), (s) => s.head?.slot === 1))
            const laggingAt = (headSlot: number) =>
              Effect.gen(function*() {
                ahead.send("head", headData(headSlot))
                yield* waitFor(`slot ${headSlot}`, Effect.map(statusOf(monitor, ahead), (s) => s.head?.slot === headSlot))
                return (yield* statusOf(monitor, behind)).lagging
              })
            // Two slots behind is in step (laggingSlots 2), three is lagging, one slot of this chain each.
            for (let headSlot = 2; headSlot <= 3; headSlot++) {
              yield* TestClock.adjust(slot)
              behind.sendRaw(": alive\n\n")
              expect(yield* laggingAt(headSlot)).toBe(false)
            }
            yield* TestClock.adjust(slot)
            behind.sendRaw(": alive\n\n")
            expect(yield* laggingAt(4)).toBe(true)
          }))
      }))
  })
}

describe("where the slot length comes from", () => {
  it.scoped("SLOT_DURATION_MS wins over SECONDS_PER_SLOT where a node gives it", () =>
    Effect.gen(function*() {
      const server = yield* node({ SECONDS_PER_SLOT: "12", SLOT_DURATION_MS: "1500" })
      yield* withMonitor([server], (monitor) =>
        Effect.sync(() => expect(Duration.toMillis(monitor.options.slotDuration)).toBe(1500)))
    }))

  it.scoped("nodes that disagree: the first in list order, one warning naming every node by display form", () =>
    Effect.gen(function*() {
      const down = yield* BeaconNodeServer.make()
      yield* Effect.promise(() => down.stop())
      const [two, twelve] = yield* Effect.all([node({ SECONDS_PER_SLOT: "2" }), node({ SECONDS_PER_SLOT: "12" })])
      const logs = captureLogs()
      yield* withMonitor([down, two, twelve], (monitor) =>
        Effect.sync(() => expect(Duration.toMillis(monitor.options.slotDuration)).toBe(2000))).pipe(
          Effect.provide(logs.layer)
        )
      const warnings = logs.lines.filter((line) => line.level === "WARN" && String(line.message).includes("slot length"))
      expect(warnings.map((line) => [line.message, line.annotations.told])).toEqual([[
        `beacon nodes tell another slot length than the one used (2 s, told by ${two.url})`,
        `${two.url}: 2 s, ${twelve.url}: 12 s`
      ]])
    }))

  it.scoped("a configured slot length wins; nodes that say otherwise are named in one warning", () =>
    Effect.gen(function*() {
      const server = yield* node({ SECONDS_PER_SLOT: "12" })
      const logs = captureLogs()
      yield* withMonitor([server], (monitor) =>
        Effect.gen(function*() {
          expect(Duration.toMillis(monitor.options.slotDuration)).toBe(5000)
          expect(Duration.toMillis(monitor.options.retry.maxDelay)).toBe(2500)
          yield* waitFor("the warning", Effect.sync(() => logs.lines.some((line) => line.level === "WARN")))
        }), { slotDuration: "5 seconds" }).pipe(Effect.provide(logs.layer))
      expect(logs.lines.filter((line) => line.level === "WARN").map((line) => [line.message, line.annotations.told]))
        .toEqual([[
          "beacon nodes tell another slot length than the one used (5 s, configured)",
          `${server.url}: 12 s`
        ]])
    }))

  it.scoped("no node tells it: mainnet's 12 s, with a warning saying how to set it", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      const logs = captureLogs()
      yield* withMonitor([server], (monitor) =>
        Effect.sync(() => expect(Duration.toMillis(monitor.options.slotDuration)).toBe(12_000))).pipe(
          Effect.provide(logs.layer)
        )
      expect(logs.lines.filter((line) => line.level === "WARN").map((line) => line.message)).toEqual([
        "no beacon node told its slot length; assuming mainnet's 12 s (set slotDuration, or --seconds-per-slot)"
      ])
    }))
})
