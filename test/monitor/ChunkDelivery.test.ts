/**
 * A node's events are handled in the socket's callback, chunk by chunk: the
 * heads of one chunk reach a subscriber together (one wake-up, not one per
 * event), a node writing flat out loses none of them to a subscriber that
 * keeps up, and a node's events that arrived before its connection failed are
 * handled before the failure.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { spawn } from "node:child_process"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { headData } from "../support/chain.js"
import { statusOf, withMonitor } from "../support/monitor.js"
import { waitFor } from "../support/wait.js"

/**
 * A node in a child process (its writes do not wait for this process's reads, as a real node's do not): it sends
 * its stream's headers at once, and `count` heads, as fast as its socket takes them, once `/blast` is asked.
 */
const blastingNode = (count: number) =>
  Effect.acquireRelease(
    Effect.sync(() => spawn(process.execPath, ["--input-type=module", "-e", blastingNodeScript, String(count)], { stdio: ["ignore", "pipe", "inherit"] })),
    (child) => Effect.sync(() => child.kill())
  ).pipe(
    // Its URL, the first line it prints once listening.
    Effect.flatMap((child) =>
      Effect.promise(() => new Promise<string>((resolve) => child.stdout.once("data", (line: Buffer) => resolve(line.toString().trim()))))
    ),
    Effect.timeout("60 seconds"),
    Effect.orDie,
    Effect.map((url) => ({ url }))
  )

const blastingNodeScript = `
import * as Http from "node:http"
const count = Number(process.argv[1])
const head = (slot) => "event: head\\ndata: " + JSON.stringify({
  slot: String(slot), block: "0x" + slot.toString(16).padStart(64, "0"), state: "0x" + "ab".repeat(32),
  epoch_transition: false, execution_optimistic: false
}) + "\\n\\n"
const streams = []
const server = Http.createServer((request, response) => {
  if (request.url.startsWith("/eth/v1/events")) {
    response.writeHead(200, { "content-type": "text/event-stream" })
    response.flushHeaders()
    streams.push(response)
  } else if (request.url === "/blast") {
    response.end()
    for (const stream of streams) {
      let slot = 1
      const write = () => {
        while (slot <= count) {
          let text = ""
          for (const end = Math.min(count, slot + 99); slot <= end; slot++) text += head(slot)
          if (!stream.write(text)) return stream.once("drain", write)
        }
      }
      write()
    }
  } else {
    response.writeHead(404).end()
  }
})
server.listen(0, "127.0.0.1", () => console.log("http://127.0.0.1:" + server.address().port))
`

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

  it.scopedLive("written flat out by a node in another process all reach a subscriber that keeps up, in order", () =>
    Effect.gen(function*() {
      const count = 40_000
      const node = yield* blastingNode(count)
      yield* withMonitor([node], (monitor) =>
        Effect.gen(function*() {
          const stream = yield* monitor.subscribe
          const slots: Array<number> = []
          yield* stream.pipe(Stream.runForEach((head) => Effect.sync(() => slots.push(head.slot))), Effect.forkScoped)
          yield* waitFor("the stream open", Effect.map(statusOf(monitor, node), (s) => s.state._tag === "Open"), 60_000)
          // Ten times a subscriber's buffer, read off the socket in turns of many chunks each.
          yield* Effect.promise(() => fetch(`${node.url}/blast`))
          yield* waitFor("the last head", Effect.sync(() => slots.at(-1) === count), 60_000)
          expect(slots.length).toBe(count)
          expect(slots.every((slot, i) => slot === i + 1)).toBe(true)
        }), { slotDuration: "12 seconds" })
    }), 120_000)

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
