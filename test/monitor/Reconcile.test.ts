import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Option, Random, Ref, Stream } from "effect"
import { HeadCacheView } from "../../src/cache/HeadCacheView.js"
import { CandidateList } from "../../src/candidates/CandidateList.js"
import type { MonitorOptionsInput } from "../../src/config/MonitorConfig.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import { unsafeParse } from "../../src/node/BeaconNode.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { headData } from "../support/chain.js"

/** Polls `condition` every few milliseconds; the test's timeout bounds the wait. */
const eventually = (condition: () => boolean) =>
  Effect.gen(function*() {
    while (!condition()) yield* Effect.sleep(2)
  })

const eventuallyEffect = (condition: Effect.Effect<boolean>) =>
  Effect.gen(function*() {
    while (!(yield* condition)) yield* Effect.sleep(2)
  })

const servers = (n: number) => Effect.all(Array.from({ length: n }, () => BeaconNodeServer.make()))

const idOf = (server: BeaconNodeServer.BeaconNodeServer) => unsafeParse(server.url).id

/** The monitor's statuses as `[index, url]`, which must be the list in order. */
const statusOrder = Effect.gen(function*() {
  const monitor = yield* HeadMonitor.HeadMonitor
  return (yield* monitor.status).map((s) => [s.index, s.node.display] as const)
})

/** Replaces the list, waits until the monitor applied it, and checks fibers and statuses against it. */
const updateAndCheck = (urls: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const list = yield* CandidateList
    const monitor = yield* HeadMonitor.HeadMonitor
    const accepted = yield* list.update(urls)
    yield* monitor.awaitReconciled
    expect(yield* monitor.fiberCount).toBe(accepted.nodes.length)
    expect(yield* statusOrder).toEqual(accepted.nodes.map((node, index) => [index, node.display]))
    return accepted
  })

/** Quick retries, but slower than a test step, so a stopped node is seen waiting in backoff. */
const options: MonitorOptionsInput = { retry: { initialDelay: "2 seconds", maxDelay: "4 seconds" } }

describe("reconcile", () => {
  it.scopedLive("[A,B,C] → [B,C,D] while all stream: B and C untouched, A closed, D connected", () =>
    Effect.gen(function*() {
      const [a, b, c, d] = yield* servers(4)
      yield* Effect.gen(function*() {
        const monitor = yield* HeadMonitor.HeadMonitor
        const cache = yield* HeadCacheView
        const received = yield* Ref.make(new Map<string, Array<{ slot: number; index: number }>>())
        const heads = yield* monitor.subscribe
        yield* heads.pipe(
          Stream.runForEach((event) =>
            Ref.update(received, (map) => {
              const list = map.get(event.node.display) ?? []
              list.push({ slot: event.slot, index: event.index })
              return map.set(event.node.display, list)
            })
          ),
          Effect.forkScoped
        )
        const got = (server: BeaconNodeServer.BeaconNodeServer) =>
          Effect.map(Ref.get(received), (map) => map.get(server.url) ?? [])
        const sentHeads = (server: BeaconNodeServer.BeaconNodeServer) => server.sent.get("head") ?? 0
        const allReceived = (nodes: ReadonlyArray<BeaconNodeServer.BeaconNodeServer>) =>
          eventuallyEffect(Effect.map(
            Effect.forEach(nodes, (server) => Effect.map(got(server), (events) => events.length === sentHeads(server))),
            (done) => done.every(Boolean)
          ))

        yield* eventually(() => [a, b, c].every((s) => s.open === 1))
        let slot = 0
        for (; slot < 20; slot++) for (const s of [a, b, c]) s.send("head", headData(slot + 1))
        yield* allReceived([a, b, c])

        // B and C keep streaming while the list is replaced.
        let streaming = true
        const sender = yield* Effect.fork(Effect.gen(function*() {
          while (streaming) {
            slot++
            for (const s of [b, c]) s.send("head", headData(slot))
            yield* Effect.sleep(1)
          }
        }))
        yield* Effect.sleep(20)
        yield* updateAndCheck([b.url, c.url, d.url])
        yield* eventually(() => d.open === 1)
        yield* Effect.sleep(20)
        streaming = false
        yield* Fiber.join(sender)
        // Marked heads, sent after the update was applied.
        for (let i = 0; i < 10; i++) {
          slot++
          for (const s of [b, c, d]) s.send("head", headData(slot))
        }
        yield* allReceived([b, c, d])
        yield* eventually(() => a.closed === 1)

        // B and C: one request ever, never closed, every event sent was received, in order.
        for (const s of [b, c]) {
          expect([s.requests, s.closed, s.open]).toEqual([1, 0, 1])
          const events = yield* got(s)
          expect(events.length).toBe(sentHeads(s))
          expect(events.map((e) => e.slot)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1))
        }
        // A's connection was closed by the monitor, and only once asked for.
        expect([a.requests, a.closed, a.open]).toEqual([1, 1, 0])
        // D: a new connection.
        expect([d.requests, d.open]).toEqual([1, 1])

        // Each event carries the position in the list current when it was emitted:
        // B was 1, then 0 for good; C stayed 1 (before: 2); D is 2.
        const indexRuns = (events: ReadonlyArray<{ index: number }>) =>
          events.map((e) => e.index).filter((index, i, all) => i === 0 || all[i - 1] !== index)
        expect(indexRuns(yield* got(b))).toEqual([1, 0])
        expect(indexRuns(yield* got(c))).toEqual([2, 1])
        expect(indexRuns(yield* got(d))).toEqual([2])
        expect((yield* got(b)).slice(-10).every((e) => e.index === 0)).toBe(true)

        // The cache kept B's and C's entries, dropped A's.
        expect(yield* cache.get(idOf(a))).toEqual(Option.none())
        expect(Option.map(yield* cache.get(idOf(b)), (h) => h.slot)).toEqual(Option.some(slot))
        expect(Option.map(yield* cache.get(idOf(c)), (h) => h.slot)).toEqual(Option.some(slot))
        expect((yield* monitor.status).map((s) => s.counters.connects)).toEqual([1, 1, 1])
      }).pipe(Effect.provide(HeadMonitor.layerNode([a, b, c].map((s) => s.url), options)))
    }))

  it.scopedLive("updates while a node is in backoff or mid-connect", () =>
    Effect.gen(function*() {
      const [streaming, down, silent] = yield* servers(3)
      yield* Effect.promise(() => down.stop())
      silent.mode = { _tag: "silent" }
      yield* Effect.gen(function*() {
        const monitor = yield* HeadMonitor.HeadMonitor
        const stateOf = (server: BeaconNodeServer.BeaconNodeServer) =>
          Effect.map(monitor.statusOf(idOf(server)), Option.map((s) => s.state))
        yield* eventuallyEffect(Effect.map(stateOf(down), (s) => Option.isSome(s) && s.value._tag === "Backoff"))
        yield* eventually(() => silent.requests === 1 && streaming.open === 1)
        const downState = yield* stateOf(down)
        const silentState = yield* stateOf(silent)
        expect(Option.map(silentState, (s) => s._tag)).toEqual(Option.some("Connecting"))

        // Reordering touches neither: same state (same `since`), no new request, nothing closed.
        yield* updateAndCheck([silent.url, down.url, streaming.url])
        yield* updateAndCheck([down.url, streaming.url, silent.url])
        expect(yield* stateOf(down)).toEqual(downState)
        expect(yield* stateOf(silent)).toEqual(silentState)
        expect([silent.requests, silent.closed, streaming.requests, streaming.closed]).toEqual([1, 0, 1, 0])

        // Removing them: the pending request is aborted, the waiting fiber is gone.
        yield* updateAndCheck([streaming.url])
        yield* eventually(() => silent.closed === 1)
        expect(yield* stateOf(down)).toEqual(Option.none())
        yield* Effect.promise(() => down.listen())
        // Well past the retry delay: a surviving fiber would have reconnected by now.
        yield* Effect.sleep(2500)
        expect(down.requests).toBe(0)
        expect(silent.requests).toBe(1)

        // Adding them back: fresh fibers connect at once.
        silent.mode = { _tag: "stream" }
        yield* updateAndCheck([streaming.url, silent.url, down.url])
        yield* eventually(() => silent.open === 1 && down.open === 1)
        expect([silent.requests, down.requests, streaming.requests]).toEqual([2, 1, 1])
        const states = yield* monitor.status
        expect(states.map((s) => s.counters.disconnects.refused)).toEqual([0, 0, 0])
      }).pipe(Effect.provide(HeadMonitor.layerNode([streaming, down, silent].map((s) => s.url), options)))
    }))

  it.scopedLive("1,000 random updates: as many fibers as nodes, statuses in list order, no leaked connection", () =>
    Effect.gen(function*() {
      const pool = yield* servers(8)
      const [down, silent] = [pool[6]!, pool[7]!]
      yield* Effect.promise(() => down.stop())
      silent.mode = { _tag: "silent" }
      const rng = Random.make("reconcile-1000")
      const pick = <A>(items: ReadonlyArray<A>) => Effect.map(rng.nextIntBetween(0, items.length), (i) => items[i]!)
      let current = pool.slice(0, 3).map((s) => s.url)

      yield* Effect.gen(function*() {
        const list = yield* CandidateList
        for (let step = 0; step < 1000; step++) {
          const missing = pool.map((s) => s.url).filter((url) => !current.includes(url))
          const op = yield* rng.nextIntBetween(0, 6)
          let next: Array<string> = [...current]
          if (op === 0 && missing.length > 0) {
            next.splice(yield* rng.nextIntBetween(0, next.length + 1), 0, yield* pick(missing))
          } else if (op === 1 && next.length > 1) {
            next.splice(yield* rng.nextIntBetween(0, next.length), 1)
          } else if (op === 2) {
            next = Chunk.toArray(yield* rng.shuffle(next))
          } else if (op === 3) {
            // A whole new random subset, in random order.
            const size = yield* rng.nextIntBetween(1, pool.length + 1)
            next = Chunk.toArray(yield* rng.shuffle(pool.map((s) => s.url))).slice(0, size)
          } else if (op === 4) {
            // An invalid list (a node twice) changes nothing at all.
            const before = yield* list.get
            yield* Effect.flip(list.update([...next, `${next[0]}/`]))
            expect(yield* list.get).toBe(before)
          }
          // op 5 (and impossible adds/removals): the same list again.
          // Every valid update is accepted as the next version, exactly as given; the invalid one made none.
          const accepted = yield* updateAndCheck(next)
          expect(accepted.version).toBe(step + 1)
          expect(accepted.nodes.map((node) => node.display)).toEqual(next)
          current = next
        }
        expect((yield* list.get).version).toBe(1000)

        // Bursts of concurrent updates: the last accepted one wins and is reconciled.
        const burst = yield* Effect.forEach(Array.from({ length: 50 }), () =>
          Effect.map(rng.shuffle(pool.map((s) => s.url)), (urls) => Chunk.toArray(urls).slice(0, 4)))
        const results = yield* Effect.forEach(burst, (urls) => list.update(urls), { concurrency: "unbounded" })
        const last = results.reduce((x, y) => (y.version > x.version ? y : x))
        expect(yield* list.get).toBe(last)
        current = last.nodes.map((n) => n.display)
        const monitor = yield* HeadMonitor.HeadMonitor
        yield* monitor.awaitReconciled
        expect(yield* monitor.fiberCount).toBe(current.length)
        expect(yield* statusOrder).toEqual(current.map((url, index) => [index, url]))

        // Every streaming server in the list ends with exactly one open stream, every other with none.
        yield* eventually(() =>
          pool.slice(0, 6).every((s) => s.open === (current.includes(s.url) ? 1 : 0)) &&
          silent.requests - silent.closed === (current.includes(silent.url) ? 1 : 0)
        )
      }).pipe(Effect.provide(HeadMonitor.layerNode(current, options)))
    }), 30_000)
})
