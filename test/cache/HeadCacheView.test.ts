import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Schema } from "effect"
import * as BeaconEvent from "../../src/events/BeaconEvent.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import { HeadCacheView } from "../../src/cache/HeadCacheView.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { headData } from "../support/chain.js"
import { waitFor } from "../support/wait.js"

describe("HeadCacheView", () => {
  it.scopedLive("shows the monitor's heads and offers no way to change them", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      yield* Effect.gen(function*() {
        const view = yield* HeadCacheView
        yield* waitFor("the stream open", Effect.sync(() => server.open === 1))
        server.send("head", headData(7))
        yield* waitFor("the head in the view", Effect.map(view.size, (size) => size === 1))
        const [cached] = yield* view.newestFirst
        expect(cached?.slot).toBe(7)
        expect(Option.map(yield* view.get(cached!.node.id), (head) => head.block)).toEqual(
          Option.some(Schema.decodeSync(BeaconEvent.Root)(headData(7).block))
        )
        expect(yield* view.isLatest({ slot: 7 })).toBe(true)
        // Not only absent from the type: the object handed out has no writing operation at all.
        for (const write of ["insert", "insertAll", "set", "remove", "purge", "retain", "unsafeInsert", "unsafeSet"]) expect(view).not.toHaveProperty(write)
      }).pipe(Effect.provide(HeadMonitor.layerNode([server.url])))
    }))
})
