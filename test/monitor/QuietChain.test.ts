/**
 * Silence is not a stall: a stream silent past the idle limit is judged by
 * asking its node for its head. 2-s slots (told by the nodes): idle limit 6 s,
 * the question answered within 1 s (half a slot). TestClock for time, real
 * loopback servers for the streams and the REST answers.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Schema, TestClock } from "effect"
import * as HealthReport from "../../src/admin/HealthReport.js"
import * as ArrivalStats from "../../src/arrivals/ArrivalStats.js"
import * as SlotClock from "../../src/health/SlotClock.js"
import * as Metrics from "../../src/metrics/Metrics.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import type { NodeStatus } from "../../src/monitor/NodeStatus.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { headData, serveHeader } from "../support/chain.js"
import { statusOf, withMonitor } from "../support/monitor.js"
import { tick, waitFor } from "../support/wait.js"

type Server = BeaconNodeServer.BeaconNodeServer

const idle = 6_000
const probeTimeout = 1_000

/** A node of a 2-s chain whose REST head is at `slot`. */
const node = (slot: number, eagerHeaders = true) =>
  Effect.tap(BeaconNodeServer.make({ eagerHeaders }), (server) =>
    Effect.sync(() => {
      server.route("/eth/v1/config/spec", () => ({ status: 200, body: { data: { SECONDS_PER_SLOT: "2" } } }))
      serveHeader(server, slot)
    }))

const reconnects = (status: NodeStatus) => Object.values(status.counters.disconnects).reduce((sum, n) => sum + n, 0)

const awaitState = (monitor: HeadMonitor.HeadMonitorService, server: Server, tag: NodeStatus["state"]["_tag"]) =>
  waitFor(`${server.url} ${tag}`, Effect.map(statusOf(monitor, server), (status) => status.state._tag === tag && status))

describe("a quiet chain (TestClock)", () => {
  it.scoped("every node silent for several idle limits, REST heads unchanged: no reconnect, heads flow again", () =>
    Effect.gen(function*() {
      const streaming = yield* Effect.all([node(1), node(1), node(1)])
      // One more that has sent nothing at all: a real node sends its response headers only with its first event.
      const unanswered = yield* node(1, false)
      const all = [...streaming, unanswered]
      const context = yield* Layer.build(
        Metrics.layer.pipe(
          Layer.provideMerge(ArrivalStats.layer),
          Layer.provideMerge(HeadMonitor.layerNode(all.map((server) => server.url))),
          Layer.provideMerge(SlotClock.layer({ genesisTime: 0, slotDuration: "2 seconds" }))
        )
      )
      const monitor = Context.get(context, HeadMonitor.HeadMonitor)
      yield* Effect.gen(function*() {
          yield* waitFor("requests", Effect.sync(() => all.every((server) => server.requests === 1)))
          for (const server of streaming) server.send("head", headData(1))
          yield* waitFor("heads", Effect.map(monitor.status, (s) => s.filter((n) => n.head?.slot === 1).length === 3))

          // Four idle limits of silence: each one asks every node once, and each confirms its head.
          for (let round = 1; round <= 4; round++) {
            yield* TestClock.adjust(idle)
            const confirmed = yield* waitFor(`round ${round}`, Effect.map(monitor.status, (statuses) =>
              statuses.every((s) => s.counters.probes.quiet === round) && statuses))
            const now = yield* TestClock.currentTimeMillis
            for (const status of confirmed) {
              expect(status.state._tag).toBe("Quiet")
              expect(status.lastConfirmedAt).toBe(now)
              expect(reconnects(status)).toBe(0)
            }
          }
          const quiet = yield* statusOf(monitor, unanswered)
          expect(quiet.state).toMatchObject({ _tag: "Quiet", opened: false })
          expect(all.map((server) => server.requests)).toEqual([1, 1, 1, 1])
          // The health answer says when the node last confirmed its head; the metrics count the questions.
          const now = new Date(yield* TestClock.currentTimeMillis).toISOString()
          const report = Schema.encodeSync(HealthReport.NodeReport)(HealthReport.fromStatus(quiet))
          expect(report).toMatchObject({ last_confirmed_at: now, connection: { state: "quiet", confirmed_at: now } })
          const scraped = yield* Context.get(context, Metrics.Metrics).scrape
          const labels = `index="3",node="${unanswered.url}"`
          expect(scraped).toContain(`beacon_head_monitor_node_probes_total{${labels},outcome="quiet"} 4`)
          expect(scraped).toContain(`beacon_head_monitor_node_probes_total{${labels},outcome="advanced"} 0`)
          expect(scraped).toContain(`beacon_head_monitor_node_state{${labels},state="Quiet"} 1`)

          // Blocks again: every stream delivers on the connection it kept.
          for (const server of all) server.send("head", headData(2))
          for (const server of all) {
            const status = yield* waitFor("slot 2", Effect.map(statusOf(monitor, server), (s) => s.head?.slot === 2 && s))
            expect(status.state._tag).toBe("Open")
            expect(reconnects(status)).toBe(0)
            expect(status.counters.probes).toEqual({ quiet: 4, advanced: 0, unanswered: 0 })
          }
          expect(all.map((server) => server.requests)).toEqual([1, 1, 1, 1])
        })
    }))

  it.scoped("a stream silent while its node's REST head advances is dropped at the idle limit", () =>
    Effect.gen(function*() {
      const [quiet, stuck] = yield* Effect.all([node(1), node(1)])
      yield* withMonitor([quiet, stuck], (monitor) =>
        Effect.gen(function*() {
          yield* waitFor("open", Effect.map(monitor.status, (s) => s.every((n) => n.state._tag === "Open")))
          for (const server of [quiet, stuck]) server.send("head", headData(1))
          yield* waitFor("heads", Effect.map(monitor.status, (s) => s.every((n) => n.head?.slot === 1)))
          // The node imports slot 2, its stream says nothing.
          serveHeader(stuck, 2)
          yield* TestClock.adjust(idle - 1)
          yield* tick(20)
          expect((yield* statusOf(monitor, stuck)).state._tag).toBe("Open")
          yield* TestClock.adjust(1)
          const dropped = yield* awaitState(monitor, stuck, "Stalled")
          expect(dropped.state).toMatchObject({
            reason: "stalled",
            detail: "no data for 6s; the node's head is at slot 2, its stream told slot 1"
          })
          expect(dropped.counters.probes).toEqual({ quiet: 0, advanced: 1, unanswered: 0 })
          // The other node's chain is quiet: kept.
          const kept = yield* awaitState(monitor, quiet, "Quiet")
          expect([reconnects(kept), quiet.requests]).toEqual([0, 1])
        }))
    }))

  it.scoped("a node that answers neither its stream nor its REST API is dropped at the idle limit plus the question", () =>
    Effect.gen(function*() {
      const [healthy, hung] = yield* Effect.all([node(1), node(1)])
      yield* withMonitor([healthy, hung], (monitor) =>
        Effect.gen(function*() {
          yield* waitFor("open", Effect.map(monitor.status, (s) => s.every((n) => n.state._tag === "Open")))
          hung.restSilent = true
          yield* TestClock.adjust(idle)
          yield* awaitState(monitor, healthy, "Quiet")
          yield* TestClock.adjust(probeTimeout - 1)
          yield* tick(20)
          expect((yield* statusOf(monitor, hung)).state._tag).toBe("Open")
          yield* TestClock.adjust(1)
          const dropped = yield* awaitState(monitor, hung, "Stalled")
          expect(dropped.state).toMatchObject({
            detail: "no data for 6s; no answer to GET /eth/v1/beacon/headers/head (timeout)"
          })
          expect(dropped.counters.probes).toEqual({ quiet: 0, advanced: 0, unanswered: 1 })
          expect(healthy.requests).toBe(1)
        }))
    }))

  it.scoped("a node whose REST API answers no head (404) is dropped at the idle limit", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make({ eagerHeaders: true })
      yield* withMonitor([server], (monitor) =>
        Effect.gen(function*() {
          yield* awaitState(monitor, server, "Open")
          yield* TestClock.adjust("36 seconds")
          const dropped = yield* awaitState(monitor, server, "Stalled")
          expect(dropped.state).toMatchObject({
            detail: "no data for 36s; no answer to GET /eth/v1/beacon/headers/head (status)"
          })
        }))
    }))
})
