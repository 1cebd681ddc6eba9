import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Schema } from "effect"
import * as BeaconHeadCache from "../../src/cache/BeaconHeadCache.js"
import * as BeaconEvent from "../../src/events/BeaconEvent.js"
import * as BeaconNode from "../../src/node/BeaconNode.js"
import { root } from "../support/chain.js"

const a = BeaconNode.unsafeParse("http://node-a:5052")
const b = BeaconNode.unsafeParse("http://node-b:5052")
const c = BeaconNode.unsafeParse("http://node-c:5052")

const block = (label: string): BeaconEvent.Root => Schema.decodeSync(BeaconEvent.Root)(root(label))

const head = (
  node: BeaconNode.BeaconNode,
  slot: number,
  receivedAt: number,
  options: { readonly fork?: string; readonly source?: BeaconHeadCache.CachedHead["source"] } = {}
): BeaconHeadCache.CachedHead => ({
  node,
  slot,
  block: block(`${options.fork ?? "main"}-${slot}`),
  receivedAt,
  source: options.source ?? "event"
})

/** `[display, slot]` of every cached head, newest first. */
const order = (cache: BeaconHeadCache.BeaconHeadCacheService) =>
  Effect.map(cache.newestFirst, (heads) => heads.map((cached) => [cached.node.display, cached.slot]))

describe("BeaconHeadCache", () => {
  describe("empty", () => {
    it.effect("has nothing and everything is latest", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        expect(yield* cache.get(a.id)).toEqual(Option.none())
        expect(yield* cache.size).toBe(0)
        expect(yield* cache.newestFirst).toEqual([])
        expect(yield* cache.isLatest({ slot: 0 })).toBe(true)
        expect(yield* cache.isLatest({ slot: 100 })).toBe(true)
      }))

    it.effect("takes remove, purge and retain without complaint", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        yield* cache.remove(a.id)
        yield* cache.purge
        yield* cache.retain([a.id])
        expect(yield* cache.size).toBe(0)
      }))

    it.effect("the first insert is new and first", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        expect(yield* cache.insert(head(a, 10, 1000))).toEqual({ outcome: "new", first: true })
        expect(yield* cache.get(a.id)).toEqual(Option.some(head(a, 10, 1000)))
        expect(yield* cache.size).toBe(1)
      }))
  })

  describe("insert", () => {
    it.effect("a higher slot is new and replaces the entry", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        yield* cache.insert(head(a, 10, 1000))
        expect(yield* cache.insert(head(a, 11, 2000))).toEqual({ outcome: "new", first: true })
        expect(yield* cache.get(a.id)).toEqual(Option.some(head(a, 11, 2000)))
      }))

    it.effect("the same slot and block again is a duplicate that keeps the earlier arrival", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        yield* cache.insert(head(a, 10, 1000))
        expect(yield* cache.insert(head(a, 10, 5000))).toEqual({ outcome: "duplicate", first: false })
        expect(yield* cache.get(a.id)).toEqual(Option.some(head(a, 10, 1000)))
      }))

    it.effect("a seed is no observation: the first live event of the seeded head is new and may be first", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        expect(yield* cache.insert(head(a, 10, 1000, { source: "seed" }))).toEqual({ outcome: "new", first: false })
        expect(yield* cache.insert(head(b, 10, 1500, { source: "seed" }))).toEqual({ outcome: "new", first: false })
        expect(yield* cache.insert(head(b, 10, 2000))).toEqual({ outcome: "new", first: true })
        expect(yield* cache.insert(head(a, 10, 2100))).toEqual({ outcome: "new", first: false })
        expect(yield* cache.insert(head(a, 10, 2200))).toEqual({ outcome: "duplicate", first: false })
        expect(yield* cache.get(a.id)).toEqual(Option.some(head(a, 10, 2100)))
      }))

    it.effect("the same slot with another block replaces the entry (a reorg at the tip)", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        yield* cache.insert(head(a, 10, 1000))
        expect(yield* cache.insert(head(a, 10, 3000, { fork: "other" }))).toEqual({ outcome: "replaced", first: false })
        expect(yield* cache.get(a.id)).toEqual(Option.some(head(a, 10, 3000, { fork: "other" })))
      }))

    it.effect("a lower slot is replayed and changes nothing (a node re-syncing after a restart)", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        yield* cache.insert(head(a, 21, 1000))
        for (let slot = 1; slot <= 20; slot++) {
          expect(yield* cache.insert(head(a, slot, 2000 + slot))).toEqual({ outcome: "replayed", first: false })
        }
        expect(yield* cache.get(a.id)).toEqual(Option.some(head(a, 21, 1000)))
        expect(yield* cache.insert(head(a, 22, 3000))).toEqual({ outcome: "new", first: true })
      }))

    it.effect("is keyed by node identity: two spellings of one node share one entry", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        yield* cache.insert(head(BeaconNode.unsafeParse("HTTP://Node-A:5052/"), 10, 1000))
        expect(yield* cache.insert(head(a, 10, 2000))).toEqual({ outcome: "duplicate", first: false })
        expect(yield* cache.size).toBe(1)
      }))
    it.effect("insertAll gives each head the outcome and first that inserting them one by one gives", () =>
      Effect.gen(function*() {
        const heads = [
          head(a, 10, 1000, { source: "seed" }),
          head(a, 10, 1100),
          head(b, 11, 1200),
          head(a, 11, 1300, { fork: "side" }),
          head(a, 11, 1350, { fork: "side" }),
          head(b, 11, 1400, { fork: "side" }),
          head(b, 9, 1500),
          head(c, 11, 1600, { fork: "side" })
        ]
        const one = yield* BeaconHeadCache.make
        const expected = yield* Effect.forEach(heads, one.insert)
        const all = yield* BeaconHeadCache.make
        expect(yield* all.insertAll(heads)).toEqual(expected)
        expect(yield* order(all)).toEqual(yield* order(one))
        expect(yield* all.insert(head(c, 12, 1700))).toEqual(yield* one.insert(head(c, 12, 1700)))
      }))
  })

  describe("first", () => {
    it.effect("only the node that reports a slot before every other is first", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        expect((yield* cache.insert(head(a, 10, 1000))).first).toBe(true)
        expect(yield* cache.insert(head(b, 10, 1010))).toEqual({ outcome: "new", first: false })
        expect(yield* cache.insert(head(c, 10, 1020, { fork: "other" }))).toEqual({ outcome: "new", first: false })
        expect((yield* cache.insert(head(b, 11, 2000))).first).toBe(true)
        expect((yield* cache.insert(head(a, 11, 2005))).first).toBe(false)
        // A node that skipped slot 11 and reports 12 first is first for 12.
        expect(yield* cache.insert(head(c, 12, 3000))).toEqual({ outcome: "new", first: true })
      }))

    it.effect("stays correct after the node that was first is removed", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        yield* cache.insert(head(a, 10, 1000))
        yield* cache.remove(a.id)
        expect(yield* cache.insert(head(b, 10, 1010))).toEqual({ outcome: "new", first: false })
        yield* cache.retain([c.id])
        expect(yield* cache.insert(head(b, 10, 1020))).toEqual({ outcome: "new", first: false })
        expect(yield* cache.insert(head(b, 11, 2000))).toEqual({ outcome: "new", first: true })
      }))

    it.effect("counts a head put in with set", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        yield* cache.set(head(a, 20, 1000, { source: "reorg" }))
        expect(yield* cache.insert(head(b, 20, 1010))).toEqual({ outcome: "new", first: false })
      }))

    it.effect("is given to exactly one of many nodes reporting one slot at once", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        const nodes = Array.from({ length: 50 }, (_, i) => BeaconNode.unsafeParse(`http://node-${i}:5052`))
        const results = yield* Effect.forEach(nodes, (node) => cache.insert(head(node, 7, 1000)), {
          concurrency: "unbounded"
        })
        expect(results.filter((result) => result.first)).toHaveLength(1)
        expect(results.every((result) => result.outcome === "new")).toBe(true)
        expect(yield* cache.size).toBe(50)
      }))
  })

  describe("set", () => {
    it.effect("puts a lower slot in unconditionally (a reorg to a shorter fork)", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        yield* cache.insert(head(a, 15, 1000))
        yield* cache.set(head(a, 14, 2000, { fork: "b", source: "reorg" }))
        expect(yield* cache.get(a.id)).toEqual(Option.some(head(a, 14, 2000, { fork: "b", source: "reorg" })))
        // The node's next head on the new fork advances it again.
        expect((yield* cache.insert(head(a, 15, 3000, { fork: "b" }))).outcome).toBe("new")
      }))

    it.effect("adds a node that had no entry", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        yield* cache.set(head(a, 3, 1000))
        expect(yield* cache.get(a.id)).toEqual(Option.some(head(a, 3, 1000)))
      }))
  })

  describe("isLatest", () => {
    it.effect("is true for a slot equal to or above every cached slot, false below any", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        yield* cache.insert(head(a, 10, 1000))
        yield* cache.insert(head(b, 12, 1000))
        expect(yield* cache.isLatest({ slot: 12 })).toBe(true)
        expect(yield* cache.isLatest({ slot: 13 })).toBe(true)
        expect(yield* cache.isLatest({ slot: 11 })).toBe(false)
        expect(yield* cache.isLatest({ slot: 10 })).toBe(false)
        expect(yield* cache.isLatest({ slot: 0 })).toBe(false)
      }))

    it.effect("no longer counts a removed node's head", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        yield* cache.insert(head(a, 10, 1000))
        yield* cache.insert(head(b, 12, 1000))
        yield* cache.remove(b.id)
        expect(yield* cache.isLatest({ slot: 10 })).toBe(true)
        expect(yield* cache.isLatest({ slot: 9 })).toBe(false)
      }))

    it.effect("follows a node set back to a lower slot", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        yield* cache.insert(head(a, 15, 1000))
        yield* cache.set(head(a, 13, 2000, { source: "reorg" }))
        expect(yield* cache.isLatest({ slot: 13 })).toBe(true)
      }))
  })

  describe("remove, purge, retain", () => {
    it.effect("remove drops only that node", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        yield* cache.insert(head(a, 10, 1000))
        yield* cache.insert(head(b, 11, 1000))
        yield* cache.remove(a.id)
        yield* cache.remove(c.id)
        expect(yield* cache.get(a.id)).toEqual(Option.none())
        expect(yield* cache.get(b.id)).toEqual(Option.some(head(b, 11, 1000)))
        expect(yield* cache.size).toBe(1)
      }))

    it.effect("a removed node starts afresh: its next head is new, whatever its slot", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        yield* cache.insert(head(a, 30, 1000))
        yield* cache.remove(a.id)
        expect(yield* cache.insert(head(a, 5, 2000))).toEqual({ outcome: "new", first: false })
        expect(yield* cache.get(a.id)).toEqual(Option.some(head(a, 5, 2000)))
      }))

    it.effect("purge drops every node", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        yield* cache.insert(head(a, 10, 1000))
        yield* cache.insert(head(b, 11, 1000))
        yield* cache.purge
        expect(yield* cache.size).toBe(0)
        expect(yield* cache.newestFirst).toEqual([])
        expect(yield* cache.isLatest({ slot: 1 })).toBe(true)
      }))

    it.effect("retain keeps only the given nodes and ignores ids it does not hold", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        for (const node of [a, b, c]) yield* cache.insert(head(node, 10, 1000))
        const unknown = BeaconNode.unsafeParse("http://node-d:5052").id
        yield* cache.retain(new Set([a.id, c.id, unknown]))
        expect(yield* order(cache)).toEqual([[a.display, 10], [c.display, 10]])
        yield* cache.retain((function*() {
          yield c.id
        })())
        expect(yield* order(cache)).toEqual([[c.display, 10]])
        yield* cache.retain([])
        expect(yield* cache.size).toBe(0)
      }))
  })

  describe("leaders", () => {
    it.effect("are the first two of newestFirst, whatever the insertion order", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        expect(yield* cache.leaders).toEqual([])
        yield* cache.insert(head(a, 10, 1000))
        expect(yield* cache.leaders).toEqual([head(a, 10, 1000)])
        const nodes = Array.from({ length: 12 }, (_, i) => BeaconNode.unsafeParse(`http://leader-${i}:5052`))
        for (const [i, node] of nodes.entries()) yield* cache.insert(head(node, 10 + ((i * 7) % 5), 3000 - i))
        expect(yield* cache.leaders).toEqual((yield* cache.newestFirst).slice(0, 2))
      }))

    it.effect("stay the first two of newestFirst when read after every write (carried from write to write)", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        const nodes = Array.from({ length: 6 }, (_, i) => BeaconNode.unsafeParse(`http://leader-${i}:5052`))
        // A fixed pseudo-random walk: new slots, repeats, replacements at a slot (a later arrival), lower slots set
        // by a reorg, several heads in one update, removals.
        let seed = 7
        const next = (n: number) => (seed = (seed * 48271) % 2147483647) % n
        for (let step = 0, at = 1000; step < 600; step++, at += 10) {
          const node = nodes[next(nodes.length)]!
          const slot = 10 + next(6)
          switch (next(5)) {
            case 0:
              yield* cache.insert(head(node, slot, at))
              break
            case 1:
              yield* cache.insert(head(node, slot, at, { fork: `f${step}` }))
              break
            case 2:
              yield* cache.set(head(node, slot, at, { fork: `r${step}`, source: "reorg" }))
              break
            case 3:
              yield* cache.insertAll([head(node, slot, at), head(nodes[next(nodes.length)]!, slot + 1, at + 1)])
              break
            case 4:
              if (next(4) === 0) yield* cache.remove(node.id)
          }
          expect(yield* cache.leaders).toEqual((yield* cache.newestFirst).slice(0, 2))
        }
      }))
  })

  describe("newestFirst", () => {
    it.effect("orders by slot descending, then earliest arrival", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        yield* cache.insert(head(a, 10, 1000))
        yield* cache.insert(head(b, 12, 2050))
        yield* cache.insert(head(c, 12, 2010))
        expect(yield* order(cache)).toEqual([[c.display, 12], [b.display, 12], [a.display, 10]])
      }))

    it.effect("keeps a duplicate's earlier arrival and a replacement's later one", () =>
      Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.make
        yield* cache.insert(head(a, 12, 2000))
        yield* cache.insert(head(b, 12, 2010))
        // A's repeat does not make it look later than B…
        yield* cache.insert(head(a, 12, 2020))
        expect(yield* order(cache)).toEqual([[a.display, 12], [b.display, 12]])
        // …but A switching to another block at the same slot does.
        yield* cache.insert(head(a, 12, 2030, { fork: "other" }))
        expect(yield* order(cache)).toEqual([[b.display, 12], [a.display, 12]])
      }))

    it.effect("breaks a tie of slot and arrival by node id, whatever the insertion order", () =>
      Effect.gen(function*() {
        const nodes = Array.from({ length: 12 }, (_, i) => BeaconNode.unsafeParse(`http://node-${i}:5052`))
        const byId = [...nodes].sort((x, y) => (x.id < y.id ? -1 : 1)).map((node) => [node.display, 5])
        for (const sequence of [nodes, [...nodes].reverse()]) {
          const cache = yield* BeaconHeadCache.make
          for (const node of sequence) yield* cache.insert(head(node, 5, 1000))
          expect(yield* order(cache)).toEqual(byId)
        }
      }))
  })

  it.effect("the layer gives each build its own cache", () =>
    Effect.gen(function*() {
      const insertAndCount = Effect.gen(function*() {
        const cache = yield* BeaconHeadCache.BeaconHeadCache
        yield* cache.insert(head(a, 1, 1000))
        return yield* cache.size
      })
      expect(yield* Effect.provide(insertAndCount, BeaconHeadCache.layer)).toBe(1)
      expect(yield* Effect.provide(insertAndCount, BeaconHeadCache.layer)).toBe(1)
    }))
})
