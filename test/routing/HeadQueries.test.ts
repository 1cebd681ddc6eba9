import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as BeaconHeadCache from "../../src/cache/BeaconHeadCache.js"
import * as HeadCacheView from "../../src/cache/HeadCacheView.js"
import type { Root } from "../../src/events/BeaconEvent.js"
import { unsafeParse } from "../../src/node/BeaconNode.js"
import { agree, nodesWithRoot } from "../../src/routing/HeadQueries.js"
import { root } from "../support/chain.js"

const r = (label: string) => root(label) as Root

describe("HeadQueries", () => {
  it.effect("lists the nodes whose head is a root, earliest first, and counts agreement", () =>
    Effect.gen(function*() {
      const cache = yield* BeaconHeadCache.BeaconHeadCache
      const head = (n: number, slot: number, block: Root, receivedAt: number) =>
        cache.insert({ node: unsafeParse(`http://node-${n}.test`), slot, block, receivedAt, source: "event" })
      yield* head(0, 10, r("a"), 30)
      yield* head(1, 10, r("a"), 10)
      yield* head(2, 10, r("b"), 20)
      yield* head(3, 9, r("a"), 5)
      expect((yield* nodesWithRoot(r("a"))).map((h) => h.node.display)).toEqual([
        "http://node-3.test",
        "http://node-1.test",
        "http://node-0.test"
      ])
      expect(yield* agree(r("a"), 3)).toBe(true)
      expect(yield* agree(r("a"), 4)).toBe(false)
      expect(yield* agree(r("b"), 1)).toBe(true)
      // A node that moves on no longer has the root as its head.
      yield* head(0, 11, r("c"), 40)
      expect(yield* agree(r("a"), 3)).toBe(false)
      expect(yield* nodesWithRoot(r("none"))).toEqual([])
    }).pipe(Effect.provide(HeadCacheView.layer.pipe(Layer.provideMerge(BeaconHeadCache.layer)))))
})
