import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Scope, Stream } from "effect"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import type { NodeStatus } from "../../src/monitor/NodeStatus.js"
import type { MonitorOptionsInput } from "../../src/config/MonitorConfig.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { headData } from "../support/chain.js"
import { statusOf, withMonitor } from "../support/monitor.js"
import { waitFor } from "../support/wait.js"

type Server = BeaconNodeServer.BeaconNodeServer

const awaitState = (monitor: HeadMonitor.HeadMonitorService, server: Server, tag: NodeStatus["state"]["_tag"]) =>
  waitFor(`state ${tag}`, Effect.map(statusOf(monitor, server), (status) => status.state._tag === tag && status))

const stop = (server: Server) => Effect.promise(() => server.stop())
const restart = (server: Server) => Effect.promise(() => server.listen())

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
