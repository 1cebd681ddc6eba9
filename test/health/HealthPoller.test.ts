import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import * as Net from "node:net"
import * as CandidateList from "../../src/candidates/CandidateList.js"
import * as MonitorConfig from "../../src/config/MonitorConfig.js"
import * as HealthPoller from "../../src/health/HealthPoller.js"
import { type NodeHealth, toJson } from "../../src/health/NodeHealth.js"
import * as SlotClock from "../../src/health/SlotClock.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { waitFor } from "../support/wait.js"
import { captureLogs } from "./logs.js"
import { holesky, serve, type Syncing, synced } from "./beaconApi.js"

/** Health over real HTTP; the TestClock starts at genesis (slot 0), slots of 12 s, polls 2 s before each boundary. */
const healthLayer = (urls: ReadonlyArray<string>, options?: HealthPoller.HealthOptions) =>
  HealthPoller.layer(options).pipe(
    Layer.provideMerge(CandidateList.layer(urls)),
    Layer.provideMerge(SlotClock.layer({ genesisTime: 0, slotDuration: "12 seconds" })),
    Layer.provide(MonitorConfig.layer()),
    Layer.provide(NodeHttpClient.layer)
  )

const summary = (health: ReadonlyArray<NodeHealth>) =>
  health.map((h) =>
    `${h.index}:${h.state._tag}${h.state._tag === "Online" ? `/${h.state.tier.tier}` : ""}`
  )

describe("HealthPoller", () => {
  it.scoped("polls every node and ranks them: tier, then unreachable, then other network", () =>
    Effect.gen(function*() {
      const [medium, best, optimistic, down, other] = yield* Effect.all(Array.from({ length: 5 }, () => BeaconNodeServer.make()))
      serve(medium!, () => ({ headSlot: 0, syncDistance: 20 }))
      serve(best!, synced)
      serve(optimistic!, () => ({ ...synced(), optimistic: true }))
      yield* Effect.promise(() => down!.stop())
      serve(other!, synced, { spec: holesky })
      const servers = [medium!, best!, optimistic!, down!, other!]
      yield* Effect.gen(function*() {
        const health = yield* HealthPoller.HealthPoller
        yield* health.refresh
        expect(summary(yield* health.health)).toEqual(["0:Online/4", "1:Online/1", "2:Online/5", "3:Unreachable", "4:Incompatible"])
        expect((yield* health.candidatesByHealth).map((n) => n.display)).toEqual(
          [best!, medium!, optimistic!, down!, other!].map((s) => s.url)
        )
        const incompatible = (yield* health.health)[4]!.state
        expect(incompatible._tag === "Incompatible" && incompatible.reason).toContain(`CONFIG_NAME is "holesky", expected "mainnet"`)
        const unreachable = toJson((yield* health.health)[3]!)
        expect(unreachable).toMatchObject({ node: down!.url, state: "unreachable", reason: expect.stringContaining("refused") })
      }).pipe(Effect.provide(healthLayer(servers.map((s) => s.url))))
    }))

  it.scoped("checks the network once per connection: again only after the node was unreachable", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      let now: Syncing | undefined = synced()
      const calls = serve(server, () => now)
      const logs = captureLogs()
      yield* Effect.gen(function*() {
        const health = yield* HealthPoller.HealthPoller
        yield* health.refresh
        yield* health.refresh
        expect(calls.get("spec")).toBe(1)
        now = undefined
        yield* health.refresh
        expect(summary(yield* health.health)).toEqual(["0:Unreachable"])
        now = synced()
        yield* health.refresh
        yield* health.refresh
        expect(summary(yield* health.health)).toEqual(["0:Online/1"])
        expect(calls.get("spec")).toBe(2)
        // One line per change of state, not per poll.
        expect(logs.lines.map((l) => `${l.level} ${l.message}`)).toEqual([
          "INFO beacon node online",
          "WARN beacon node unreachable",
          "INFO beacon node online"
        ])
        expect(logs.lines[1]!.annotations).toEqual({
          node: server.url,
          reason: `${server.url} /eth/v1/node/syncing: status (HTTP 503)`
        })
      }).pipe(Effect.provide(healthLayer([server.url])), Effect.provide(logs.layer))
    }))

  it.scoped("follows list updates: new nodes start unknown, removed nodes vanish", () =>
    Effect.gen(function*() {
      const [a, b] = yield* Effect.all([BeaconNodeServer.make(), BeaconNodeServer.make()])
      serve(a!, synced)
      const calls = serve(b!, synced)
      yield* Effect.gen(function*() {
        const health = yield* HealthPoller.HealthPoller
        const list = yield* CandidateList.CandidateList
        yield* health.refresh
        yield* list.update([b!.url])
        expect((yield* health.health).map((h) => [h.node.display, h.state._tag])).toEqual([[b!.url, "Unknown"]])
        // A node that joins is polled at once, without waiting for the next slot.
        yield* waitFor("the new node polled", Effect.map(health.health, (all) => all[0]!.state._tag === "Online"))
        expect(calls.get("syncing")).toBe(1)
      }).pipe(Effect.provide(healthLayer([a!.url])))
    }))

  it.scoped("an update during the first round polls only the nodes that joined", () =>
    Effect.gen(function*() {
      // A node that accepts connections and never answers keeps the first round open until its timeout (2 s).
      const hung = yield* Effect.acquireRelease(
        Effect.async<Net.Server>((resume) => {
          const server = Net.createServer(() => {})
          server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
        }),
        (server) => Effect.sync(() => server.close())
      )
      const hungUrl = `http://127.0.0.1:${(hung.address() as Net.AddressInfo).port}`
      const [b, c] = yield* Effect.all([BeaconNodeServer.make(), BeaconNodeServer.make()])
      const callsB = serve(b!, synced)
      const callsC = serve(c!, synced)
      yield* Effect.gen(function*() {
        const health = yield* HealthPoller.HealthPoller
        const list = yield* CandidateList.CandidateList
        yield* waitFor("the first round under way", Effect.sync(() => callsB.get("syncing") === 1))
        yield* list.update([hungUrl, b!.url, c!.url])
        yield* TestClock.adjust("2 seconds")
        yield* waitFor("the new node polled", Effect.map(health.health, (all) => all[2]!.state._tag === "Online"))
        expect(callsC.get("syncing")).toBe(1)
        expect(callsB.get("syncing")).toBe(1)
        expect(summary(yield* health.health)).toEqual(["0:Unreachable", "1:Online/1", "2:Online/1"])
      }).pipe(Effect.provide(healthLayer([hungUrl, b!.url])))
    }))

  it.scoped("polls once per slot, a sixth of a slot before the boundary", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      const calls = serve(server, synced)
      yield* Effect.gen(function*() {
        const health = yield* HealthPoller.HealthPoller
        yield* waitFor("the first poll", Effect.map(health.health, (all) => all[0]!.state._tag === "Online"))
        expect(calls.get("syncing")).toBe(1)
        yield* TestClock.adjust("9999 millis")
        expect(calls.get("syncing")).toBe(1)
        yield* TestClock.adjust("1 millis")
        yield* waitFor("the poll at 10 s", Effect.sync(() => calls.get("syncing") === 2))
        yield* TestClock.adjust("12 seconds")
        yield* waitFor("the poll at 22 s", Effect.sync(() => calls.get("syncing") === 3))
        // Slot 1 has begun: the node's head at slot 0 is one slot behind, still synced.
        const state = (yield* health.health)[0]!.state
        expect(state._tag === "Online" && state.tier.syncDistance).toBe(1)
      }).pipe(Effect.provide(healthLayer([server.url])))
    }))
})
