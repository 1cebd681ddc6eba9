import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { HeadMonitor } from "../../src/index.js"
import { BeaconNodeServer } from "../../src/testing.js"
import { serve, synced } from "../health/beaconApi.js"
import { headData, root } from "../support/chain.js"
import { tick, waitFor } from "../support/wait.js"
import { attestationFor, attestEverySlot, live } from "./attest.js"

const slotMillis = 12_000

/**
 * Three simulated nodes A, B, C: healthy, each answering attestation data with the root in `roots` (by default
 * its head's), genesis at time 0 with 12-second slots. The example runs on the TestClock from genesis.
 */
const devnet = Effect.gen(function*() {
  const servers = yield* Effect.all([BeaconNodeServer.make(), BeaconNodeServer.make(), BeaconNodeServer.make()])
  const calls: Array<string> = []
  const roots: Array<string> = ["", "", ""]
  servers.forEach((server, i) => {
    const name = "ABC"[i]!
    serve(server, synced)
    server.route("/eth/v1/validator/attestation_data", (url) => {
      calls.push(name)
      const slot = url.searchParams.get("slot") ?? ""
      return { status: 200, body: { data: { slot, index: url.searchParams.get("committee_index"), beacon_block_root: roots[i] } } }
    })
  })
  const layer = live(servers.map((s) => s.url))
  const name = (display: string) => "ABC"[servers.findIndex((s) => s.url === display)]
  return { servers, calls, roots, layer, name }
})

describe("README example: attest on the head, else at the deadline", () => {
  it.scoped("asks the node that saw the head first, falls back on a wrong root, and waits for the deadline without a head", () =>
    Effect.gen(function*() {
      const { calls, layer, name, roots, servers } = yield* devnet
      yield* Effect.gen(function*() {
        yield* waitFor("streams open", Effect.sync(() => servers.every((s) => s.open === 1)))
        const run = (slot: number, script: Effect.Effect<void>, heads = true) =>
          Effect.gen(function*() {
            calls.length = 0
            yield* TestClock.setTime(slot * slotMillis)
            const attesting = yield* Effect.fork(attestationFor(slot))
            yield* tick(20)
            yield* script
            const result = yield* Fiber.join(attesting)
            // The other nodes see the slot's head too (the monitor drops a node that stays silent while others advance).
            if (heads) {
              for (const server of servers) server.send("head", headData(slot))
              yield* waitFor(`every node at slot ${slot}`, Effect.map(HeadMonitor.HeadMonitor.pipe(Effect.flatMap((m) => m.status)), (all) => all.every((n) => n.head?.slot === slot)))
            }
            return { node: name(result.node), on: result.on, root: result.root, calls: [...calls] }
          })
        const head = (i: number, slot: number) => Effect.sync(() => servers[i]!.send("head", headData(slot)))

        // Slot 1: B sees the head first and attests to it.
        roots.fill(headData(1).block)
        expect(yield* run(1, head(1, 1))).toEqual({ node: "B", on: "head", root: headData(1).block, calls: ["B"] })

        // Slot 2: no head by 4 s: the best node (A, first in the list) is asked at the deadline.
        roots.fill(root("parent"))
        expect(yield* run(2, TestClock.adjust("4 seconds"), false)).toEqual({
          node: "A",
          on: "deadline",
          root: root("parent"),
          calls: ["A"]
        })

        // Slot 3: C saw the head first but attests to another root: A, the next best, attests to the head.
        roots.fill(headData(3).block)
        roots[2] = root("stale")
        expect(yield* run(3, head(2, 3))).toEqual({ node: "A", on: "head", root: headData(3).block, calls: ["C", "A"] })

        // Slot 4: nobody attests to B's head: after both passes, the deadline answer of A is taken.
        roots.fill(root("other fork"))
        expect(yield* run(4, Effect.zipRight(head(1, 4), Effect.zipRight(waitFor("both passes on the head", Effect.sync(() => calls.length === 6)), TestClock.adjust("4 seconds"))))).toEqual({
          node: "A",
          on: "deadline",
          root: root("other fork"),
          calls: ["B", "A", "C", "A", "B", "C", "A"]
        })
      }).pipe(Effect.provide(layer))
    }))

  it.scoped("runs every slot", () =>
    Effect.gen(function*() {
      const { calls, layer, roots, servers } = yield* devnet
      yield* Effect.gen(function*() {
        yield* waitFor("streams open", Effect.sync(() => servers.every((s) => s.open === 1)))
        roots.fill(root("any"))
        yield* Effect.forkScoped(attestEverySlot)
        for (const slot of [0, 1, 2]) {
          yield* TestClock.setTime(slot * slotMillis + 4_000)
          yield* waitFor(`the deadline answer of slot ${slot}`, Effect.sync(() => calls.length === slot + 1))
        }
        expect(calls).toEqual(["A", "A", "A"])
      }).pipe(Effect.provide(layer))
    }))
})
