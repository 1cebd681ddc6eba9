import { describe, expect, it } from "@effect/vitest"
import { Clock, Context, Effect, Exit, Layer, Scope, Stream, TestClock } from "effect"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import type { NodeStatus } from "../../src/monitor/NodeStatus.js"
import type { MonitorOptionsInput } from "../../src/config/MonitorConfig.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { headData } from "../support/chain.js"
import { statusOf, withMonitor } from "../support/monitor.js"
import { tick, waitFor } from "../support/wait.js"

type Server = BeaconNodeServer.BeaconNodeServer

/** Waits until the server's node is in a waiting state with the given attempt; returns that state. */
const awaitWaiting = (
  monitor: HeadMonitor.HeadMonitorService,
  server: Server,
  tag: "Backoff" | "Stalled" | "Rejected",
  attempt: number
) =>
  waitFor(
    `${tag} attempt ${attempt}`,
    Effect.map(statusOf(monitor, server), ({ state }) => state._tag === tag && state.attempt === attempt && state)
  )

const awaitState = (monitor: HeadMonitor.HeadMonitorService, server: Server, tag: NodeStatus["state"]["_tag"]) =>
  waitFor(`state ${tag}`, Effect.map(statusOf(monitor, server), (status) => status.state._tag === tag && status))

const stop = (server: Server) => Effect.promise(() => server.stop())
const restart = (server: Server) => Effect.promise(() => server.listen())

describe("HeadMonitor retry policy (TestClock)", () => {
  it.scoped("backs off exponentially from 250 ms, ×2, capped at 6 s", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      yield* stop(server)
      yield* withMonitor([server], (monitor) =>
        Effect.gen(function*() {
          const delays: Array<number> = []
          for (let attempt = 1; attempt <= 8; attempt++) {
            const state = yield* awaitWaiting(monitor, server, "Backoff", attempt)
            expect(state.reason).toBe("refused")
            delays.push(state.nextAttemptAt - state.since)
            // One millisecond early nothing happens; at the delay the next attempt starts.
            yield* TestClock.adjust(delays[delays.length - 1]! - 1)
            yield* tick(10)
            expect((yield* statusOf(monitor, server)).state._tag).toBe("Backoff")
            yield* TestClock.adjust(1)
          }
          expect(delays).toEqual([250, 500, 1000, 2000, 4000, 6000, 6000, 6000])
          expect((yield* statusOf(monitor, server)).counters.disconnects.refused).toBeGreaterThanOrEqual(8)
        }))
    }))

  /** The first `attempts` delays of a node that stays down, with the jitter's random number pinned to `random`. */
  const delaysWith = (random: number, attempts: number) =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      yield* stop(server)
      return yield* withMonitor([server], (monitor) =>
        Effect.gen(function*() {
          const delays: Array<number> = []
          for (let attempt = 1; attempt <= attempts; attempt++) {
            const state = yield* awaitWaiting(monitor, server, "Backoff", attempt)
            delays.push(state.nextAttemptAt - state.since)
            yield* TestClock.adjust(delays[delays.length - 1]!)
          }
          return delays
        }), undefined, random)
    })

  it.scoped("jitters every delay within the bounds, and the jittered delay never exceeds the cap", () =>
    Effect.gen(function*() {
      // Random 0.9 → factor 0.8 × 0.1 + 1.2 × 0.9 = 1.16: below the cap each delay is 1.16 × its step, at the cap
      // 1.16 × 6 s would be 6.96 s, and the cap holds it at 6 s.
      const high = yield* delaysWith(0.9, 8)
      expect(high.map(Math.round)).toEqual([290, 580, 1160, 2320, 4640, 6000, 6000, 6000])
      // Random 0.1 → factor 0.84: every delay, the capped ones too, is jittered down.
      const low = yield* delaysWith(0.1, 8)
      expect(low.map(Math.round)).toEqual([210, 420, 840, 1680, 3360, 5040, 5040, 5040])
    }))

  it.scoped("resets the backoff once a reconnected stream delivers data", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      yield* stop(server)
      yield* withMonitor([server], (monitor) =>
        Effect.gen(function*() {
          for (const [attempt, delay] of [[1, 250], [2, 500], [3, 1000]] as const) {
            yield* awaitWaiting(monitor, server, "Backoff", attempt)
            if (attempt === 3) yield* restart(server)
            yield* TestClock.adjust(delay)
          }
          yield* waitFor("reconnect", Effect.sync(() => server.requests === 1))
          server.send("head", headData(7))
          yield* awaitState(monitor, server, "Open")
          yield* waitFor("head", Effect.map(statusOf(monitor, server), (s) => s.head?.slot === 7))
          yield* stop(server)
          const afterReset = yield* awaitWaiting(monitor, server, "Backoff", 1)
          expect(afterReset.nextAttemptAt - afterReset.since).toBe(250)
        }))
    }))

  it.scoped("retries a rejecting node (400/401/403/404/405) at the capped delay, 5xx as transient", () =>
    Effect.gen(function*() {
      const servers = yield* Effect.all([400, 401, 403, 404, 405, 500, 503].map(() => BeaconNodeServer.make()))
      const statuses = [400, 401, 403, 404, 405, 500, 503]
      servers.forEach((server, i) => (server.mode = { _tag: "status", status: statuses[i]! }))
      yield* withMonitor(servers, (monitor) =>
        Effect.gen(function*() {
          for (const [i, server] of servers.entries()) {
            const status = statuses[i]!
            const waiting = yield* awaitWaiting(monitor, server, status >= 500 ? "Backoff" : "Rejected", 1)
            expect(waiting.detail).toBe(`HTTP ${status}`)
            expect(waiting.nextAttemptAt - waiting.since).toBe(status >= 500 ? 250 : 6000)
          }
          // Still retried: a rejecting node may be upgraded or restarted.
          yield* TestClock.adjust(6000)
          yield* waitFor("second attempts", Effect.sync(() => servers.every((server) => server.requests >= 2)))
          const rejected = yield* awaitWaiting(monitor, servers[3]!, "Rejected", 2)
          expect(rejected.nextAttemptAt - rejected.since).toBe(6000)
        }))
    }))
})

describe("HeadMonitor stall watchdog (TestClock)", () => {
  it.scoped("counts the wait for response headers against the idle limit", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      server.mode = { _tag: "silent" }
      yield* withMonitor([server], (monitor) =>
        Effect.gen(function*() {
          yield* waitFor("request", Effect.sync(() => server.requests === 1))
          yield* TestClock.adjust(35_999)
          yield* tick(20)
          expect((yield* statusOf(monitor, server)).state._tag).toBe("Connecting")
          yield* TestClock.adjust(1)
          const stalled = yield* awaitWaiting(monitor, server, "Stalled", 1)
          expect(stalled.reason).toBe("stalled")
          // The stalled request was aborted: the server saw its connection close.
          yield* waitFor("abort", Effect.sync(() => server.closed === 1))
        }))
    }))

  it.scoped("does not fire while keep-alive comments arrive, fires at the limit after the last byte", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make({ eagerHeaders: true })
      yield* withMonitor([server], (monitor) =>
        Effect.gen(function*() {
          yield* awaitState(monitor, server, "Open")
          for (let round = 0; round < 5; round++) {
            yield* TestClock.adjust(30_000)
            server.sendRaw(": keep-alive\n\n")
            const now = yield* Clock.currentTimeMillis
            yield* waitFor("keep-alive", Effect.map(statusOf(monitor, server), (s) => s.lastActivityAt === now))
          }
          const open = yield* statusOf(monitor, server)
          expect(open.state._tag).toBe("Open")
          expect(open.counters.disconnects.stalled).toBe(0)
          expect(server.requests).toBe(1)
          yield* TestClock.adjust(35_999)
          yield* tick(20)
          expect((yield* statusOf(monitor, server)).state._tag).toBe("Open")
          yield* TestClock.adjust(1)
          yield* awaitWaiting(monitor, server, "Stalled", 1)
        }))
    }))
})

const liveOptions: MonitorOptionsInput = {
  retry: { initialDelay: "20 millis", maxDelay: "200 millis" },
  idleTimeout: "2 seconds"
}

/** Collects every head event until `done` holds. */
const collectHeads = (monitor: HeadMonitor.HeadMonitorService) =>
  Effect.gen(function*() {
    const stream = yield* monitor.subscribe
    const events: Array<{ readonly node: string; readonly slot: number; readonly outcome: string }> = []
    const fiber = yield* stream.pipe(
      Stream.runForEach((event) => Effect.sync(() => events.push({ node: event.node.display, slot: event.slot, outcome: event.outcome }))),
      Effect.fork
    )
    return { events, fiber }
  })

describe("HeadMonitor with faulty nodes (live)", () => {
  it.scopedLive("follows a node killed and restarted after start, healthy nodes see no reconnect and miss nothing", () =>
    Effect.gen(function*() {
      const [a, b, c] = yield* Effect.all([BeaconNodeServer.make(), BeaconNodeServer.make(), BeaconNodeServer.make()])
      yield* withMonitor([a!, b!, c!], (monitor) =>
        Effect.gen(function*() {
          const { events } = yield* collectHeads(monitor)
          yield* waitFor("connections", Effect.sync(() => [a!, b!, c!].every((s) => s.requests === 1)))
          let slot = 1
          const emit = (servers: ReadonlyArray<Server>) =>
            Effect.gen(function*() {
              for (const server of servers) server.send("head", headData(slot))
              slot++
              yield* Effect.sleep("10 millis")
            })
          for (let i = 0; i < 5; i++) yield* emit([a!, b!, c!])
          yield* stop(b!)
          for (let i = 0; i < 5; i++) yield* emit([a!, c!])
          yield* restart(b!)
          yield* waitFor("b reconnected", Effect.sync(() => b!.requests > 1 && b!.open === 1), 5_000)
          for (let i = 0; i < 5; i++) yield* emit([a!, b!, c!])
          const received = (server: Server) => events.filter((e) => e.node === server.url).length
          yield* waitFor("all delivered", Effect.sync(() =>
            [a!, b!, c!].every((server) => received(server) === server.sent.get("head"))))
          expect(received(a!)).toBe(15)
          expect(received(c!)).toBe(15)
          expect(received(b!)).toBe(10)
          // The healthy nodes were never reconnected.
          expect(a!.requests).toBe(1)
          expect(c!.requests).toBe(1)
          const statuses = yield* monitor.status
          expect(statuses.map((s) => s.counters.connects)).toEqual([1, 2, 1])
          expect(statuses[1]!.head?.slot).toBe(15)
          expect(yield* monitor.fiberCount).toBe(3)
        }), liveOptions)
    }))

  it.scopedLive("poison and oversized events on one node touch no other node", () =>
    Effect.gen(function*() {
      const [good, bad] = yield* Effect.all([BeaconNodeServer.make(), BeaconNodeServer.make()])
      yield* withMonitor([good!, bad!], (monitor) =>
        Effect.gen(function*() {
          const { events } = yield* collectHeads(monitor)
          yield* waitFor("connections", Effect.sync(() => good!.requests === 1 && bad!.requests === 1))
          good!.send("head", headData(1))
          bad!.send("head", headData(1))
          bad!.send("head", "{not json")
          bad!.sendRaw("event: mystery\ndata: {}\n\n")
          bad!.send("head", { slot: "x" })
          bad!.send("head", headData(2))
          yield* waitFor("bad slot 2", Effect.sync(() => events.some((e) => e.node === bad!.url && e.slot === 2)))
          expect((yield* statusOf(monitor, bad!)).counters.invalidEvents).toBe(3)
          // Oversized: dropped and reconnected, the node is followed again. The Backoff lasts 20 ms, too short to
          // catch by polling: the status changes tell it.
          const changes = yield* monitor.subscribeStatus
          const badStates: Array<NodeStatus["state"]> = []
          yield* changes.pipe(
            Stream.filter((status) => status.node.display === bad!.url),
            Stream.runForEach((status) => Effect.sync(() => badStates.push(status.state))),
            Effect.forkScoped
          )
          bad!.sendRaw(`event: head\ndata: ${"x".repeat(5_000)}`)
          yield* waitFor("bad reconnected", Effect.sync(() => bad!.requests === 2 && badStates.length >= 2))
          expect(badStates.map((state) => state._tag === "Backoff" ? `${state.reason} ${state.attempt}` : state._tag))
            .toEqual(["oversized 1", "Connecting"])
          good!.send("head", headData(2))
          bad!.send("head", headData(3))
          yield* waitFor("bad slot 3", Effect.sync(() => events.some((e) => e.node === bad!.url && e.slot === 3)))
          const badStatus = yield* statusOf(monitor, bad!)
          expect(badStatus.counters.disconnects.oversized).toBe(1)
          expect(good!.requests).toBe(1)
          expect(events.filter((e) => e.node === good!.url).map((e) => e.slot)).toEqual([1, 2])
        }), { ...liveOptions, maxEventSize: 4_096 })
    }))

  it.scopedLive("skips optimistic heads, keeps the newest head through a replayed burst", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      yield* withMonitor([server], (monitor) =>
        Effect.gen(function*() {
          const { events } = yield* collectHeads(monitor)
          yield* waitFor("connection", Effect.sync(() => server.requests === 1))
          for (const slot of [20, 21]) server.send("head", headData(slot))
          server.send("head", headData(22, { optimistic: true }))
          for (const slot of [3, 4, 5]) server.send("head", headData(slot))
          server.send("head", headData(21))
          yield* waitFor("events", Effect.sync(() => events.length === 6))
          expect(events.map((e) => [e.slot, e.outcome])).toEqual([
            [20, "new"],
            [21, "new"],
            [3, "replayed"],
            [4, "replayed"],
            [5, "replayed"],
            [21, "duplicate"]
          ])
          const status = yield* statusOf(monitor, server)
          expect(status.head?.slot).toBe(21)
          expect(status.counters.optimisticHeadsSkipped).toBe(1)
          expect(status.counters.replayedHeads).toBe(3)
        }), liveOptions)
    }))

  it.scopedLive("treats a normal end of the response as a failure and reconnects", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make({ eagerHeaders: true })
      yield* withMonitor([server], (monitor) =>
        Effect.gen(function*() {
          yield* awaitState(monitor, server, "Open")
          server.endStreams()
          yield* waitFor("reconnect", Effect.sync(() => server.requests === 2 && server.open === 1))
          expect((yield* statusOf(monitor, server)).counters.disconnects.ended).toBe(1)
        }), liveOptions)
    }))

  it.scopedLive("closing the layer's scope interrupts every fiber and aborts every request", () =>
    Effect.gen(function*() {
      const streaming = yield* BeaconNodeServer.make({ eagerHeaders: true })
      const silent = yield* BeaconNodeServer.make()
      silent.mode = { _tag: "silent" }
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(HeadMonitor.layerNode([streaming.url, silent.url]), scope)
      const monitor = Context.get(context, HeadMonitor.HeadMonitor)
      yield* waitFor("both requests", Effect.sync(() => streaming.open === 1 && silent.requests === 1))
      expect(yield* monitor.fiberCount).toBe(2)
      yield* Scope.close(scope, Exit.void)
      yield* waitFor("aborted", Effect.sync(() => streaming.closed === 1 && silent.closed === 1))
      expect(streaming.open).toBe(0)
    }))
})
