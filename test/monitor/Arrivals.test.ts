/**
 * Heads that arrive together are handled and delivered together: when every
 * node writes at once, a subscriber wakes once for all of them, not once per
 * event; and a node's events that arrived before its connection failed are
 * handled before the failure.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { headData } from "../support/chain.js"
import { statusOf, withMonitor } from "../support/monitor.js"
import { waitFor } from "../support/wait.js"

const nodes = 20

describe("arrivals of one turn of the event loop", () => {
  it.scopedLive("reach a subscriber in one wake-up when every node writes at once", () =>
    Effect.gen(function*() {
      const servers = yield* Effect.all(Array.from({ length: nodes }, () => BeaconNodeServer.make()))
      yield* withMonitor(servers, (monitor) =>
        Effect.gen(function*() {
          const stream = yield* monitor.subscribe
          // Each element is what one wake-up of the subscriber took from its mailbox.
          const wakes: Array<ReadonlyArray<number>> = []
          yield* stream.pipe(
            Stream.chunks,
            Stream.runForEach((chunk) => Effect.sync(() => wakes.push(Chunk.toReadonlyArray(Chunk.map(chunk, (e) => e.slot))))),
            Effect.forkScoped
          )
          yield* waitFor("connections", Effect.sync(() => servers.every((server) => server.open === 1)))
          for (let slot = 1; slot <= 3; slot++) {
            // One synchronous loop: every write is in its socket before the monitor reads any.
            for (const server of servers) server.send("head", headData(slot))
            yield* waitFor(`slot ${slot} from every node`, Effect.sync(() => wakes.flat().filter((s) => s === slot).length === nodes))
          }
          // Three rounds of 20 heads: 3 wake-ups (one per round), where one per event would be 60.
          expect(wakes.map((wake) => wake.length)).toEqual([nodes, nodes, nodes])
        }))
    }))

  it.scopedLive("of a node whose connection then ends are handled before the failure", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      yield* withMonitor([server], (monitor) =>
        Effect.gen(function*() {
          yield* waitFor("connection", Effect.sync(() => server.open === 1))
          // The node ends the stream right after the head: the head must not be put in the cache after the
          // failure took the node's head out (a dead node's head would count as newest).
          server.send("head", headData(7))
          server.endStreams()
          const status = yield* waitFor("the failure", Effect.map(statusOf(monitor, server), (s) => s.counters.disconnects.ended === 1 && s))
          expect(status.counters.heads).toBe(1)
          expect(status.head).toBeUndefined()
        }))
    }))
})
