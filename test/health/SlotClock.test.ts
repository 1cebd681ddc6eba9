import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, TestClock } from "effect"
import * as CandidateList from "../../src/candidates/CandidateList.js"
import * as MonitorConfig from "../../src/config/MonitorConfig.js"
import * as SlotClock from "../../src/health/SlotClock.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { mainnet, serve, synced } from "./beaconApi.js"

describe("SlotClock", () => {
  it.effect("maps times to slots and slots to times", () =>
    Effect.gen(function*() {
      const clock = SlotClock.make({ genesisTime: 100, slotDuration: "12 seconds" })
      expect(clock.startOf(0)).toBe(100_000)
      expect(clock.startOf(3)).toBe(136_000)
      expect([99_999, 100_000, 111_999, 112_000].map(clock.slotAt)).toEqual([-1, 0, 0, 1])
      yield* TestClock.setTime(136_500)
      expect(yield* clock.currentSlot).toBe(3)
    }))

  it.scoped("reads genesis and slot length from the first node that answers", () =>
    Effect.gen(function*() {
      const [down, up] = yield* Effect.all([BeaconNodeServer.make(), BeaconNodeServer.make()])
      yield* Effect.promise(() => down.stop())
      serve(up, synced, { genesisTime: 1_606_824_023, spec: { ...mainnet, SECONDS_PER_SLOT: "6" } })
      const clock = yield* SlotClock.SlotClock.pipe(
        Effect.provide(
          SlotClock.layerFromNodes().pipe(
            Layer.provide(CandidateList.layer([down.url, up.url])),
            Layer.provide(MonitorConfig.layer()),
            Layer.provide(NodeHttpClient.layer)
          )
        )
      )
      expect(clock.genesis).toBe(1_606_824_023_000)
      expect(Duration.toMillis(clock.slotDuration)).toBe(6_000)
    }))

  it.scoped("fails with every attempt when no node answers", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      yield* Effect.promise(() => server.stop())
      const error = yield* SlotClock.fromNodes().pipe(
        Effect.flip,
        Effect.provide(CandidateList.layer([server.url])),
        Effect.provide(MonitorConfig.layer()),
        Effect.provide(NodeHttpClient.layer)
      )
      expect(error.attempts.map((a) => [a.node, a.round, a.cause.reason])).toEqual([
        [server.url, "first", "refused"],
        [server.url, "second", "refused"]
      ])
    }))
})
