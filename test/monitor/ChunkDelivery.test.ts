/**
 * A node's events are handled in the socket's callback, chunk by chunk: the
 * heads of one chunk reach a subscriber together (one wake-up, not one per
 * event), every node's chunk reaches it without waiting for the other nodes'
 * sockets, and a node's events that arrived before its connection failed are
 * handled before the failure.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { headData } from "../support/chain.js"
import { statusOf, withMonitor } from "../support/monitor.js"
import { waitFor } from "../support/wait.js"

const event = (slot: number) => `event: head\ndata: ${JSON.stringify(headData(slot))}\n\n`

describe("a node's chunk of events", () => {
  it.scopedLive("reaches a subscriber in one wake-up, in order", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      yield* withMonitor([server], (monitor) =>
        Effect.gen(function*() {
          const stream = yield* monitor.subscribe
          // Each element is what one wake-up of the subscriber took from its mailbox.
          const wakes: Array<ReadonlyArray<number>> = []
          yield* stream.pipe(
            Stream.chunks,
            Stream.runForEach((chunk) => Effect.sync(() => wakes.push(Chunk.toReadonlyArray(Chunk.map(chunk, (e) => e.slot))))),
            Effect.forkScoped
          )
          yield* waitFor("connection", Effect.sync(() => server.open === 1))
          for (let round = 0; round < 3; round++) {
            const slots = [1, 2, 3, 4, 5].map((n) => round * 5 + n)
            // One write: one chunk on the socket.
            server.sendRaw(slots.map(event).join(""), "head")
            yield* waitFor(`round ${round}`, Effect.sync(() => wakes.flat().includes(slots[4]!)))
          }
          // Three chunks of five heads: three wake-ups, where one per event would be fifteen.
          expect(wakes).toEqual([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12, 13, 14, 15]])
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
