/**
 * Every fault script on scripted nodes in memory and the `TestClock`: no socket, no real pause. Times are exact:
 * each request a node receives is stamped with the effect clock, so a reconnect one millisecond early or late, or a
 * drop a tick before its limit, fails the test. Jitter is pinned (to a factor of exactly 1 unless a test says).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Random, type Scope, Stream, TestClock } from "effect"
import * as CandidateList from "../../src/candidates/CandidateList.js"
import type * as MonitorConfig from "../../src/config/MonitorConfig.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import type { NodeStatus } from "../../src/monitor/NodeStatus.js"
import * as InMemoryTransport from "../../src/stream/InMemoryTransport.js"
import { headData } from "../support/chain.js"
import { eventually, scriptedMonitor, settle } from "../support/scripted.js"

type ScriptedNode = InMemoryTransport.ScriptedNode

interface Harness {
  readonly monitor: HeadMonitor.HeadMonitorService
  readonly candidates: CandidateList.CandidateListService
  readonly status: (node: ScriptedNode) => Effect.Effect<NodeStatus>
  /** Waits until the node's state has the tag (and, if given, the attempt). */
  readonly state: (node: ScriptedNode, tag: NodeStatus["state"]["_tag"], attempt?: number) => Effect.Effect<NodeStatus>
}

const follow = <A, E>(
  nodes: ReadonlyArray<ScriptedNode>,
  network: InMemoryTransport.ScriptedNetwork,
  body: (harness: Harness) => Effect.Effect<A, E, Scope.Scope>,
  options: MonitorConfig.MonitorOptionsInput = {},
  random = 0.5
) =>
  Effect.gen(function*() {
    const monitor = yield* HeadMonitor.HeadMonitor
    const candidates = yield* CandidateList.CandidateList
    yield* monitor.awaitReconciled
    const status = (node: ScriptedNode) =>
      Effect.map(monitor.statusOf(node.node.id), (found) => {
        if (found._tag === "None") throw new Error(`${node.url} is not followed`)
        return found.value
      })
    const state = (node: ScriptedNode, tag: NodeStatus["state"]["_tag"], attempt?: number) =>
      eventually(
        `${node.url} ${tag}${attempt === undefined ? "" : ` attempt ${attempt}`}`,
        Effect.map(status(node), (s) =>
          s.state._tag === tag && (attempt === undefined || ("attempt" in s.state && s.state.attempt === attempt)) && s)
      )
    return yield* body({ monitor, candidates, status, state })
  }).pipe(Effect.provide(scriptedMonitor(network, nodes, options)), Effect.withRandom(Random.fixed([random])))

/** `follow` with one node, `a` (`http://a.test`), answering as `answer` says (default: a stream). */
const followOne = <A, E>(
  answer: InMemoryTransport.Answer | undefined,
  body: (a: ScriptedNode, harness: Harness) => Effect.Effect<A, E, Scope.Scope>,
  options?: MonitorConfig.MonitorOptionsInput
) =>
  Effect.suspend(() => {
    const network = InMemoryTransport.make()
    const a = network.node("http://a.test")
    if (answer !== undefined) a.answer = answer
    return follow([a], network, (harness) => body(a, harness), options)
  })

const times = (node: ScriptedNode) => node.requests.map((request) => request.at)

/** Advances the clock by `ms` and lets the woken fibers finish. */
const advance = (ms: number) => Effect.zipRight(TestClock.adjust(ms), settle)

/**
 * The node's last connection was closed by `by` at `at` for `reason`; the node waits in `tag` for attempt 1 and is
 * asked again exactly 250 ms (the first delay) later, not a millisecond before.
 */
const droppedThenRetried = (
  state: Harness["state"],
  node: ScriptedNode,
  expected: {
    readonly tag: "Backoff" | "Stalled"
    readonly reason: string
    readonly at: number
    readonly by: "client" | "node"
  }
) =>
  Effect.gen(function*() {
    const { at, by, reason, tag } = expected
    const waiting = yield* state(node, tag, 1)
    expect(waiting.state).toMatchObject({ reason, since: at, nextAttemptAt: at + 250 })
    expect(node.requests.at(-1)).toMatchObject({ closedAt: at, closedBy: by })
    const asked = node.requests.length
    yield* advance(249)
    expect(node.requests).toHaveLength(asked)
    yield* advance(1)
    expect(times(node).at(-1)).toBe(at + 250)
  })

describe("fault scripts on scripted nodes (TestClock, in memory)", () => {
  it.scoped("restart: a killed node is retried at the policy's steps and followed again when it is back", () =>
    Effect.gen(function*() {
      yield* followOne(undefined, (a, { state, status }) =>
        Effect.gen(function*() {
          a.send("head", headData(1))
          yield* state(a, "Open")
          // Killed: the connection breaks, and nothing listens any more.
          a.answer = { _tag: "refuse", code: "ECONNREFUSED" }
          a.reset()
          yield* state(a, "Backoff", 1)
          yield* advance(3_750)
          expect(times(a)).toEqual([0, 250, 750, 1_750, 3_750])
          // Back up: the next step of the policy (4 s later) connects.
          a.answer = { _tag: "stream" }
          yield* advance(3_999)
          expect(times(a)).toHaveLength(5)
          yield* advance(1)
          expect(times(a)).toEqual([0, 250, 750, 1_750, 3_750, 7_750])
          a.send("head", headData(2))
          const back = yield* state(a, "Open")
          expect(back.head?.slot).toBe(2)
          expect(back.counters.disconnects).toMatchObject({ reset: 1, refused: 4 })
          expect(back.counters.connects).toBe(2)
          expect((yield* status(a)).state._tag).toBe("Open")
        }))
    }))

  it.scoped("stall: a silent stream is dropped at the idle limit after its last byte, not a tick before", () =>
    Effect.gen(function*() {
      yield* followOne(undefined, (a, { state }) =>
        Effect.gen(function*() {
          a.send("head", headData(1))
          yield* state(a, "Open")
          // A keep-alive comment counts as a byte: the limit runs from it.
          yield* advance(30_000)
          a.sendRaw(": keep-alive\n\n")
          yield* advance(35_999)
          expect((yield* state(a, "Open")).counters.disconnects.stalled).toBe(0)
          expect(a.requests[0]!.closedAt).toBeUndefined()
          // The node's own head moved on while its stream said nothing: the stream is stalled.
          a.head = { slot: 2, root: headData(2).block }
          yield* advance(1)
          yield* droppedThenRetried(state, a, { tag: "Stalled", reason: "stalled", at: 66_000, by: "client" })
          expect(times(a)).toEqual([0, 66_250])
        }))
    }))

  it.scoped("quiet chain: a silent stream whose node has no newer head is kept, asked again each idle period", () =>
    followOne(undefined, (a, { state, status }) =>
      Effect.gen(function*() {
        a.send("head", headData(1))
        yield* state(a, "Open")
        // Four idle limits without a block: at each, the node is asked and confirms slot 1.
        for (const at of [36_000, 72_000, 108_000, 144_000]) {
          yield* advance(36_000)
          const quiet = yield* state(a, "Quiet")
          expect(quiet.lastConfirmedAt).toBe(at)
        }
        const kept = yield* status(a)
        expect(kept.counters.probes).toMatchObject({ quiet: 4 })
        expect(Object.values(kept.counters.disconnects).every((n) => n === 0)).toBe(true)
        expect(a.requests).toHaveLength(1)
        expect(a.requests[0]!.closedAt).toBeUndefined()
        expect(a.restRequests.filter((r) => r.path === "/eth/v1/beacon/headers/head").map((r) => r.at))
          .toEqual(expect.arrayContaining([36_000, 72_000, 108_000, 144_000]))
        // Blocks again: the same connection delivers.
        a.send("head", headData(2))
        yield* eventually("slot 2 delivered", Effect.map(status(a), (s) => s.head?.slot === 2))
        expect((yield* state(a, "Open")).counters.connects).toBe(1)
        expect(a.requests).toHaveLength(1)
      })))

  it.scoped("a request still waiting for headers counts against the idle limit", () =>
    Effect.gen(function*() {
      yield* followOne({ _tag: "silent" }, (a, { state }) =>
        Effect.gen(function*() {
          yield* advance(35_999)
          expect((yield* state(a, "Connecting")).counters.disconnects.stalled).toBe(0)
          a.head = { slot: 2, root: headData(2).block }
          yield* advance(1)
          yield* state(a, "Stalled", 1)
          expect(a.requests[0]).toMatchObject({ closedAt: 36_000, closedBy: "client" })
        }))
    }))

  it.scoped("poison: bad events are dropped and counted, the stream lives", () =>
    Effect.gen(function*() {
      yield* followOne(undefined, (a, { state, status }) =>
        Effect.gen(function*() {
          a.send("head", headData(1))
          a.send("head", "{not json")
          a.sendRaw("event: mystery\ndata: {}\n\n")
          a.send("head", { slot: "x" })
          a.send("head", headData(2))
          yield* state(a, "Open")
          yield* advance(10_000)
          const after = yield* status(a)
          expect(after.state._tag).toBe("Open")
          expect(after.head?.slot).toBe(2)
          expect(after.counters.invalidEvents).toBe(3)
          expect(Object.values(after.counters.disconnects).every((n) => n === 0)).toBe(true)
          expect(a.requests).toHaveLength(1)
          expect(a.requests[0]!.closedAt).toBeUndefined()
        }))
    }))

  it.scoped("oversized: the event over the limit drops the connection at once, the events before it count", () =>
    Effect.gen(function*() {
      yield* followOne(undefined, (a, { monitor, state }) =>
        Effect.gen(function*() {
          const heads = yield* monitor.subscribe
          const slots: Array<number> = []
          yield* Effect.forkScoped(Stream.runForEach(heads, (head) => Effect.sync(() => slots.push(head.slot))))
          yield* advance(1_000)
          a.sendRaw(`event: head\ndata: ${JSON.stringify(headData(1))}\n\nevent: head\ndata: ${"x".repeat(5_000)}`)
          yield* droppedThenRetried(state, a, { tag: "Backoff", reason: "oversized", at: 1_000, by: "client" })
          expect(slots).toEqual([1])
          expect(times(a)).toEqual([0, 1_250])
        }), { maxEventSize: 4_096 })
    }))

  it.scoped("4xx: a rejecting node is retried at the capped delay every time", () =>
    Effect.gen(function*() {
      const network = InMemoryTransport.make()
      const codes = [400, 401, 403, 404, 405]
      const nodes = codes.map((status, i) => {
        const node = network.node(`http://n${i}.test`)
        node.answer = { _tag: "status", status }
        return node
      })
      // A 400 to head+chain_reorg is first taken as a refusal of the pair: `head` alone is asked at once, on every
      // attempt (the pair is tried again on each reconnect).
      const expectedTimes = (status: number, ...at: ReadonlyArray<number>) =>
        status === 400 ? at.flatMap((t) => [t, t]) : at
      yield* follow(nodes, network, ({ state }) =>
        Effect.gen(function*() {
          for (const [i, node] of nodes.entries()) {
            const rejected = yield* state(node, "Rejected", 1)
            expect(rejected.state).toMatchObject({ detail: `HTTP ${codes[i]}`, since: 0, nextAttemptAt: 6_000 })
          }
          yield* advance(5_999)
          for (const [i, node] of nodes.entries()) expect(times(node)).toEqual(expectedTimes(codes[i]!, 0))
          yield* advance(1)
          yield* advance(6_000)
          expect(nodes[0]!.requests.map((r) => r.topics.join("+"))).toEqual([
            "head+chain_reorg",
            "head",
            "head+chain_reorg",
            "head",
            "head+chain_reorg",
            "head"
          ])
          for (const [i, node] of nodes.entries()) {
            expect(times(node)).toEqual(expectedTimes(codes[i]!, 0, 6_000, 12_000))
            expect((yield* state(node, "Rejected", 3)).counters.disconnects.rejected).toBe(3)
          }
        }))
    }))

  it.scoped("5xx: a failing node is retried with exponential backoff, capped", () =>
    Effect.gen(function*() {
      yield* followOne({ _tag: "status", status: 503 }, (a, { state }) =>
        Effect.gen(function*() {
          yield* state(a, "Backoff", 1)
          yield* advance(25_750)
          expect(times(a)).toEqual([0, 250, 750, 1_750, 3_750, 7_750, 13_750, 19_750, 25_750])
          const waiting = yield* state(a, "Backoff", 9)
          expect(waiting.state).toMatchObject({ reason: "server_error", detail: "HTTP 503", nextAttemptAt: 31_750 })
        }))
    }))

  it.scoped("jitters every delay within the bounds, and the jittered delay never exceeds the cap", () =>
    Effect.gen(function*() {
      /** When a node that stays down is asked, with the jitter's random number pinned to `random`. */
      const attemptsWith = (random: number) =>
        Effect.gen(function*() {
          const network = InMemoryTransport.make()
          const a = network.node("http://a.test")
          a.answer = { _tag: "refuse", code: "ECONNREFUSED" }
          return yield* follow([a], network, () =>
            Effect.gen(function*() {
              yield* advance(30_000)
              return times(a).slice(0, 9)
            }), {}, random)
        })
      const delays = (at: ReadonlyArray<number>) => at.slice(1).map((t, i) => Math.round(t - at[i]!))
      // Random 0.9 → factor 0.8 × 0.1 + 1.2 × 0.9 = 1.16: below the cap each delay is 1.16 × its step, at the cap
      // 1.16 × 6 s would be 6.96 s, and the cap holds it at 6 s.
      expect(delays(yield* attemptsWith(0.9))).toEqual([290, 580, 1160, 2320, 4640, 6000, 6000, 6000])
      // Random 0.1 → factor 0.84: every delay, the capped ones too, is jittered down.
      expect(delays(yield* attemptsWith(0.1))).toEqual([210, 420, 840, 1680, 3360, 5040, 5040, 5040])
    }))

  it.scoped("normal end: the node closing the stream is a failure, reconnected after the first delay", () =>
    Effect.gen(function*() {
      yield* followOne(undefined, (a, { state }) =>
        Effect.gen(function*() {
          a.send("head", headData(1))
          yield* state(a, "Open")
          yield* advance(5_000)
          a.end()
          yield* droppedThenRetried(state, a, { tag: "Backoff", reason: "ended", at: 5_000, by: "node" })
          expect(times(a)).toEqual([0, 5_250])
        }))
    }))

  it.scoped("list change mid-connect: the removed node's pending request is aborted, the others are not touched", () =>
    Effect.gen(function*() {
      const network = InMemoryTransport.make()
      const [a, b, c] = ["a", "b", "c"].map((name) => network.node(`http://${name}.test`)) as [ScriptedNode, ScriptedNode, ScriptedNode]
      a.answer = { _tag: "silent" }
      yield* follow([a, b], network, ({ candidates, monitor, state }) =>
        Effect.gen(function*() {
          b.send("head", headData(1))
          yield* state(b, "Open")
          yield* advance(1_000)
          expect(a.requests[0]!.closedAt).toBeUndefined()
          yield* candidates.update([b.url, c.url])
          yield* monitor.awaitReconciled
          expect(a.requests[0]).toMatchObject({ closedAt: 1_000, closedBy: "client" })
          expect(a.open).toBe(0)
          expect(times(c)).toEqual([1_000])
          expect(b.requests).toHaveLength(1)
          expect(b.requests[0]!.closedAt).toBeUndefined()
          expect(yield* monitor.fiberCount).toBe(2)
          // Long after, the removed node is never asked again.
          yield* advance(60_000)
          expect(a.requests).toHaveLength(1)
        }))
    }))

  it.scoped("a stream that delivers and then fails starts the backoff afresh", () =>
    Effect.gen(function*() {
      yield* followOne({ _tag: "refuse", code: "ECONNREFUSED" }, (a, { state }) =>
        Effect.gen(function*() {
          yield* advance(750)
          yield* state(a, "Backoff", 3)
          a.answer = { _tag: "stream" }
          yield* advance(1_000)
          expect(times(a)).toEqual([0, 250, 750, 1_750])
          a.send("head", headData(1))
          yield* state(a, "Open")
          a.reset()
          // Attempt 1 again: 250 ms, not the 2 s that a fourth failure in a row would wait.
          yield* droppedThenRetried(state, a, { tag: "Backoff", reason: "reset", at: 1_750, by: "node" })
          expect(times(a)).toEqual([0, 250, 750, 1_750, 2_000])
        }))
    }))

  it.scoped("a stream that fails without delivering keeps growing the backoff", () =>
    Effect.gen(function*() {
      yield* followOne({ _tag: "stream", eagerHeaders: true }, (a, { state }) =>
        Effect.gen(function*() {
          // Answered, then broken before any event: no data flowed, so no reset.
          for (const [attempt, delay] of [[1, 250], [2, 500], [3, 1_000]] as const) {
            yield* state(a, "Open")
            a.reset()
            yield* state(a, "Backoff", attempt)
            yield* advance(delay)
          }
          expect(times(a)).toEqual([0, 250, 750, 1_750])
        }))
    }))
})
