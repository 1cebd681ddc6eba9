import { describe, expect, it } from "@effect/vitest"
import { type Duration, Effect, Stream, TestClock } from "effect"
import type { HeadMonitorService } from "../../src/monitor/HeadMonitor.js"
import type { ReorgEvent } from "../../src/monitor/ReorgEvent.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { headData, reorgData, serveHeader } from "../support/chain.js"
import { statusOf, withMonitor } from "../support/monitor.js"
import { tick, waitFor } from "../support/wait.js"

describe("seed on (re)connect", () => {
  it.scopedLive("puts the node's head in the cache as soon as the stream opens, and again after a restart", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make({ eagerHeaders: true })
      serveHeader(server, 41)
      yield* withMonitor([server], (monitor) =>
        Effect.gen(function*() {
          const seeded = yield* waitFor("seed", Effect.map(statusOf(monitor, server), (s) => s.head))
          expect(seeded).toMatchObject({ slot: 41, block: headData(41).block, source: "seed" })
          expect(server.sent.get("head") ?? 0).toBe(0)
          // Killed and restarted at a later head: the cache has it again before any new event.
          yield* Effect.promise(() => server.stop())
          yield* waitFor("removed", Effect.map(statusOf(monitor, server), (s) => s.head === undefined))
          serveHeader(server, 57)
          yield* Effect.promise(() => server.listen())
          const reseeded = yield* waitFor("reseed", Effect.map(statusOf(monitor, server), (s) => s.head?.slot === 57 && s.head))
          expect(reseeded.source).toBe("seed")
        }), { retry: { initialDelay: "20 millis", maxDelay: "100 millis" } })
    }))

  it.scopedLive("a failed seed is harmless: the stream goes on", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make({ eagerHeaders: true })
      server.route("/eth/v1/beacon/headers/head", () => ({ status: 200, body: { data: "garbage" } }))
      yield* withMonitor([server], (monitor) =>
        Effect.gen(function*() {
          yield* waitFor("open", Effect.map(statusOf(monitor, server), (s) => s.state._tag === "Open"))
          yield* tick(20)
          server.send("head", headData(3))
          const status = yield* waitFor("head", Effect.map(statusOf(monitor, server), (s) => s.head?.slot === 3 && s))
          expect(status.head?.source).toBe("event")
          expect(server.requests).toBe(1)
        }))
    }))
})

/** Lets the idle limit pass on a node's unanswered request, then the retry delay, until its `requests`-th request. */
const dropAndRetry = (
  monitor: HeadMonitorService,
  server: BeaconNodeServer.BeaconNodeServer,
  requests: number,
  retryDelay: Duration.DurationInput
) =>
  Effect.gen(function*() {
    yield* waitFor(`request ${requests - 1}`, Effect.sync(() => server.requests === requests - 1))
    yield* TestClock.adjust("36 seconds")
    yield* waitFor("stalled", Effect.map(statusOf(monitor, server), (s) => s.state._tag === "Stalled"))
    yield* TestClock.adjust(retryDelay)
    yield* waitFor(`request ${requests}`, Effect.sync(() => server.requests === requests))
  })

describe("reorgs", () => {
  it.scopedLive("chain_reorg replaces the head; a same-slot head with another root counts once with it", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      yield* withMonitor([server], (monitor) =>
        Effect.gen(function*() {
          const reorgs: Array<ReorgEvent> = []
          yield* monitor.subscribeReorgs.pipe(
            Effect.flatMap((stream) => Effect.fork(Stream.runForEach(stream, (e) => Effect.sync(() => reorgs.push(e)))))
          )
          yield* waitFor("request", Effect.sync(() => server.requests === 1))
          expect(server.requestedTopics).toEqual(["head,chain_reorg"])
          server.send("head", headData(10))
          // Lodestar's order: the new head first, then chain_reorg for the same switch.
          server.send("head", headData(10, { fork: "b" }))
          server.send("chain_reorg", reorgData(10, 1, "b"))
          yield* waitFor("first reorg", Effect.sync(() => reorgs.length === 1))
          let status = yield* statusOf(monitor, server)
          expect(status.counters.chainReorgs).toBe(1)
          expect(status.head).toMatchObject({ slot: 10, block: headData(10, { fork: "b" }).block })
          expect(status.lastReorg).toMatchObject({ slot: 10, depth: 1 })
          expect(reorgs[0]).toMatchObject({ index: 0, slot: 10, depth: 1, newHeadBlock: headData(10, { fork: "b" }).block })
          // A reorg to a lower slot, announced by chain_reorg alone, moves the head back.
          server.send("chain_reorg", {
            slot: "9",
            depth: "2",
            old_head_block: headData(10, { fork: "b" }).block,
            new_head_block: headData(9, { fork: "c" }).block,
            epoch: "0"
          })
          yield* waitFor("second reorg", Effect.sync(() => reorgs.length === 2))
          status = yield* statusOf(monitor, server)
          expect(status.counters.chainReorgs).toBe(2)
          expect(status.head).toMatchObject({ slot: 9, block: headData(9, { fork: "c" }).block, source: "reorg" })
        }))
    }))

  it.scopedLive("asks for head alone at once when the combined topics get 400, and for the pair again next time", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      server.unknownTopics = { topics: new Set(["chain_reorg"]), answer: "400" }
      yield* withMonitor([server], (monitor) =>
        Effect.gen(function*() {
          yield* waitFor("second request", Effect.sync(() => server.requests === 2))
          expect(server.requestedTopics).toEqual(["head,chain_reorg", "head"])
          server.send("head", headData(4))
          const status = yield* waitFor("head", Effect.map(statusOf(monitor, server), (s) => s.head?.slot === 4 && s))
          expect(status.topics).toEqual(["head"])
          // The 400 was the answer to a question about topics, not a failure of the node.
          expect(status.counters.disconnects.rejected).toBe(0)
          // Not for good: the node may have been upgraded by the time it reconnects.
          server.unknownTopics = undefined
          server.endStreams()
          yield* waitFor("third request", Effect.sync(() => server.requests === 3))
          server.send("head", headData(5))
          const again = yield* waitFor("head 5", Effect.map(statusOf(monitor, server), (s) => s.head?.slot === 5 && s))
          expect(server.requestedTopics).toEqual(["head,chain_reorg", "head", "head,chain_reorg"])
          expect(again.topics).toEqual(["head", "chain_reorg"])
        }), { retry: { initialDelay: "10 millis", maxDelay: "10 millis" } })
    }))

  it.scoped("follows head alone when the combined topics go unanswered while head alone answers (TestClock)", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      server.unknownTopics = { topics: new Set(["chain_reorg"]), answer: "hang" }
      yield* withMonitor([server], (monitor) =>
        Effect.gen(function*() {
          // The stall alone proves nothing: the next attempt asks for head alone, to find out.
          yield* dropAndRetry(monitor, server, 2, "250 millis")
          expect(server.requestedTopics).toEqual(["head,chain_reorg", "head"])
          server.send("head", headData(3))
          const open = yield* waitFor("open", Effect.map(statusOf(monitor, server), (s) => s.state._tag === "Open" && s))
          expect(open.topics).toEqual(["head"])
          // The next connection asks for the pair again.
          server.endStreams()
          yield* TestClock.adjust("250 millis")
          yield* waitFor("third request", Effect.sync(() => server.requests === 3))
          expect(server.requestedTopics).toEqual(["head,chain_reorg", "head", "head,chain_reorg"])
        }))
    }))

  it.scoped("a node dropped before it answers keeps chain_reorg when head alone goes unanswered too (TestClock)", () =>
    Effect.gen(function*() {
      // A syncing node answers with its first event, whatever the topics: silence is no refusal of the pair.
      const server = yield* BeaconNodeServer.make()
      server.mode = { _tag: "silent" }
      yield* withMonitor([server], (monitor) =>
        Effect.gen(function*() {
          yield* dropAndRetry(monitor, server, 2, "250 millis")
          yield* dropAndRetry(monitor, server, 3, "500 millis")
          expect(server.requestedTopics).toEqual(["head,chain_reorg", "head", "head,chain_reorg"])
          expect((yield* statusOf(monitor, server)).topics).toEqual(["head", "chain_reorg"])
        }))
    }))
})

describe("slot-aware staleness (TestClock)", () => {
  it.scoped("a silent node is marked stalled and reconnected one slot after the others advance", () =>
    Effect.gen(function*() {
      const [a, b, silent] = yield* Effect.all([0, 1, 2].map(() => BeaconNodeServer.make({ eagerHeaders: true })))
      const all = [a!, b!, silent!]
      yield* withMonitor(all, (monitor) =>
        Effect.gen(function*() {
          yield* waitFor("all open", Effect.map(monitor.status, (s) => s.every((n) => n.state._tag === "Open")))
          // A whole quiet slot: nobody advances, nobody is dropped.
          yield* TestClock.adjust("12 seconds")
          for (const server of [a!, b!]) server.send("head", headData(1))
          yield* waitFor("heads", Effect.map(monitor.status, (s) => s.filter((n) => n.head?.slot === 1).length === 2))
          // No head while the others have one: it cannot serve the head, so it sorts after them.
          expect((yield* statusOf(monitor, silent!)).lagging).toBe(true)
          yield* TestClock.adjust("11999 millis")
          yield* tick(20)
          expect((yield* statusOf(monitor, silent!)).state._tag).toBe("Open")
          // The healthy ones report the next slot in time, the silent one sent nothing for a slot.
          for (const server of [a!, b!]) server.send("head", headData(2))
          yield* TestClock.adjust("1 millis")
          const stalled = yield* waitFor(
            "stalled",
            Effect.map(statusOf(monitor, silent!), (s) => s.state._tag === "Stalled" && s.state)
          )
          expect(stalled.detail).toContain("slot 1")
          yield* TestClock.adjust("250 millis")
          yield* waitFor("reconnect", Effect.sync(() => silent!.requests === 2))
          expect(a!.requests).toBe(1)
          expect(b!.requests).toBe(1)
          // Back, but behind: two slots behind is tolerated, more is lagging.
          silent!.send("head", headData(1))
          yield* waitFor("caught up", Effect.map(statusOf(monitor, silent!), (s) => s.head?.slot === 1))
          expect((yield* statusOf(monitor, silent!)).lagging).toBe(false)
          for (const server of [a!, b!]) server.send("head", headData(3))
          yield* waitFor("others at 3", Effect.map(statusOf(monitor, a!), (s) => s.head?.slot === 3))
          expect((yield* statusOf(monitor, silent!)).lagging).toBe(false)
          for (const server of [a!, b!]) server.send("head", headData(4))
          yield* waitFor("lagging", Effect.map(statusOf(monitor, silent!), (s) => s.lagging))
        }))
    }))

  it.scoped("on a chain where no node advances nobody is dropped before the idle limit", () =>
    Effect.gen(function*() {
      const servers = yield* Effect.all([0, 1, 2].map(() => BeaconNodeServer.make({ eagerHeaders: true })))
      yield* withMonitor(servers, (monitor) =>
        Effect.gen(function*() {
          yield* waitFor("all open", Effect.map(monitor.status, (s) => s.every((n) => n.state._tag === "Open")))
          yield* TestClock.adjust("35 seconds")
          yield* tick(20)
          expect((yield* monitor.status).map((s) => s.state._tag)).toEqual(["Open", "Open", "Open"])
          expect(servers.map((s) => s.requests)).toEqual([1, 1, 1])
        }))
    }))
})

describe("consensus view", () => {
  const scenario = (heads: ReadonlyArray<ReadonlyArray<number | [number, string]>>) =>
    Effect.gen(function*() {
      const servers = yield* Effect.all(heads.map(() => BeaconNodeServer.make()))
      return yield* withMonitor(servers, (monitor) =>
        Effect.gen(function*() {
          yield* waitFor("requests", Effect.sync(() => servers.every((s) => s.requests === 1)))
          // Each head is cached before the next is sent, a few milliseconds later: arrivals in the order sent (two
          // heads sent 5 ms apart could be read in one turn on a busy machine, in either order, at one timestamp).
          for (const [i, server] of servers.entries()) {
            for (const head of heads[i]!) {
              const [slot, fork] = typeof head === "number" ? [head, "main"] : head
              const { block } = headData(slot, { fork })
              server.send("head", headData(slot, { fork }))
              yield* waitFor(`slot ${slot} cached`, Effect.map(statusOf(monitor, server), (s) => s.head?.block === block))
              yield* tick(2)
            }
          }
          return { consensus: yield* monitor.consensus, urls: servers.map((s) => s.url) }
        }))
    })

  it.scopedLive("one node: its head", () =>
    Effect.gen(function*() {
      const { consensus, urls } = yield* scenario([[5]])
      expect(consensus.head).toMatchObject({ slot: 5, count: 1 })
      expect(consensus.head?.nodes.map(String)).toEqual(urls)
      expect(consensus.nodes[0]).toMatchObject({ agrees: true, slotsBehind: 0 })
    }))

  it.scopedLive("two nodes tied on different heads: the higher slot wins", () =>
    Effect.gen(function*() {
      const { consensus, urls } = yield* scenario([[5], [6]])
      expect(consensus.head).toMatchObject({ slot: 6, count: 1 })
      const behind = consensus.nodes.find((n) => String(n.node) === urls[0])
      expect(behind).toMatchObject({ agrees: false, slotsBehind: 1 })
    }))

  it.scopedLive("two nodes tied at one slot on two forks: the head seen first wins", () =>
    Effect.gen(function*() {
      const { consensus, urls } = yield* scenario([[[7, "a"]], [[7, "b"]]])
      expect(consensus.head).toMatchObject({ slot: 7, block: headData(7, { fork: "a" }).block, count: 1 })
      expect(consensus.head?.nodes.map(String)).toEqual([urls[0]])
    }))

  it.scopedLive("three nodes: the majority wins over a higher slot", () =>
    Effect.gen(function*() {
      const { consensus, urls } = yield* scenario([[8], [8], [9]])
      expect(consensus.head).toMatchObject({ slot: 8, count: 2 })
      expect(consensus.head?.nodes.map(String)).toEqual([urls[0], urls[1]])
      expect(consensus.nodes.find((n) => String(n.node) === urls[2])).toMatchObject({ agrees: false, slotsBehind: -1 })
    }))
})
