/**
 * A bug while one node's events are handled (in its socket's callback) must fail that node's connection only: counted as `defect`, logged once with the node and the cause, retried under the policy,
 * while the other nodes keep streaming. Before, such a throw escaped every fiber and ended the process.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Random, Stream } from "effect"
import { NodeHttpClient } from "@effect/platform-node"
import * as HeadCache from "../../src/cache/BeaconHeadCache.js"
import * as CandidateList from "../../src/candidates/CandidateList.js"
import * as MonitorConfig from "../../src/config/MonitorConfig.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import * as NodeStreamTransport from "../../src/stream/NodeStreamTransport.js"
import { headData } from "../support/chain.js"
import { statusOf } from "../support/monitor.js"
import { waitFor } from "../support/wait.js"
import { captureLogs } from "../health/logs.js"

/**
 * The real cache, except that inserting a head of the node at `faultyUrl` throws, once `armed` says so: an `Error`
 * (`error`) or any other value (`value`), as a library bug or a hostile value could.
 */
const faultyCache = (faultyUrl: string, how: "error" | "value", armed: () => boolean) =>
  Layer.effect(
    HeadCache.BeaconHeadCache,
    Effect.map(HeadCache.make, (cache): HeadCache.BeaconHeadCacheService => ({
      ...cache,
      unsafeInsert: (head) => {
        if (!armed() || head.node.display !== faultyUrl) return cache.unsafeInsert(head)
        if (how === "error") throw new Error("bug in handling")
        throw "bug in handling"
      }
    }))
  )

describe("a defect while one node's events are handled", () => {
  for (const how of ["error", "value"] as const) {
    it.scopedLive(`(a thrown ${how}) fails that node's connection only; the others keep streaming`, () =>
      Effect.gen(function*() {
        const servers = yield* Effect.all([BeaconNodeServer.make(), BeaconNodeServer.make(), BeaconNodeServer.make()])
        const [a, bad, c] = servers as [BeaconNodeServer.BeaconNodeServer, BeaconNodeServer.BeaconNodeServer, BeaconNodeServer.BeaconNodeServer]
        let armed = true
        const logs = captureLogs()
        const monitorLayer = HeadMonitor.layerWithCache.pipe(
          Layer.provide(faultyCache(bad.url, how, () => armed)),
          Layer.provide(CandidateList.layer(servers.map((s) => s.url))),
          Layer.provide(MonitorConfig.layer({ retry: { initialDelay: "50 millis", maxDelay: "200 millis" } })),
          Layer.provide(NodeHttpClient.layer),
          Layer.provide(NodeStreamTransport.layer),
          Layer.provide(logs.layer)
        )
        yield* Effect.gen(function*() {
          const monitor = yield* HeadMonitor.HeadMonitor
          const stream = yield* monitor.subscribe
          const received: Array<string> = []
          yield* stream.pipe(
            Stream.runForEach((event) => Effect.sync(() => received.push(`${event.node.display}@${event.slot}`))),
            Effect.forkScoped
          )
          yield* waitFor("connections", Effect.sync(() => servers.every((s) => s.open === 1)))
          for (let slot = 1; slot <= 3; slot++) {
            for (const server of servers) server.send("head", headData(slot))
            yield* waitFor(`slot ${slot}`, Effect.sync(() =>
              received.includes(`${a.url}@${slot}`) && received.includes(`${c.url}@${slot}`)))
          }
          // One defect per connection: the faulty node is dropped at its first head and reconnected under the policy.
          const failed = yield* waitFor("defect", Effect.map(statusOf(monitor, bad), (s) => s.counters.disconnects.defect >= 1 && s))
          expect(failed.head).toBeUndefined()
          expect(received.some((line) => line.startsWith(`${bad.url}@`))).toBe(false)
          yield* waitFor("reconnect", Effect.sync(() => bad.requests >= 2))

          // The healthy nodes never noticed.
          for (const server of [a, c]) {
            const status = yield* statusOf(monitor, server)
            expect(status.state._tag).toBe("Open")
            expect(status.counters.connects).toBe(1)
            expect(Object.values(status.counters.disconnects).every((n) => n === 0)).toBe(true)
            expect(server.requests).toBe(1)
          }
          const lines = logs.lines.filter((line) => line.level === "ERROR")
          const defects = (yield* statusOf(monitor, bad)).counters.disconnects.defect
          // Logged once per defect, naming the node by its display form, with the cause.
          expect(lines.length).toBe(defects)
          expect(lines[0]!.annotations.node).toBe(bad.url)
          expect(lines[0]!.cause).toContain("bug in handling")

          // Fixed: the node is followed again.
          armed = false
          yield* waitFor("bad open again", Effect.gen(function*() {
            bad.send("head", headData(9))
            yield* Effect.sleep("5 millis")
            return received.includes(`${bad.url}@9`)
          }))
          expect((yield* statusOf(monitor, bad)).state._tag).toBe("Open")
        }).pipe(Effect.provide(monitorLayer), Effect.withRandom(Random.fixed([0.5])))
      }))
  }
})
