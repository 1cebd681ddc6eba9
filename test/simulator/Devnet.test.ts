/**
 * The simulated devnet over real HTTP, its timing driven by the TestClock:
 * the REST routes, per-node delays, restarts, silence, skipped slots, reorgs.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Clock, Effect, Random, type Scope, TestClock } from "effect"
import type { BeaconNodeServer } from "../../src/simulator/BeaconNodeServer.js"
import * as Devnet from "../../src/simulator/Devnet.js"
import { waitFor } from "../support/wait.js"

const getJson = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url)
    return { status: response.status, body: await response.json() as { data: Record<string, unknown> } }
  })

/** Reads a node's event stream as text, collecting it until the scope closes. */
const listen = (server: BeaconNodeServer): Effect.Effect<{ text: string }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const received = { text: "" }
    const abort = new AbortController()
    yield* Effect.addFinalizer(() => Effect.sync(() => abort.abort()))
    const before = server.open
    void fetch(`${server.url}/eth/v1/events?topics=head&topics=chain_reorg`, { signal: abort.signal })
      .then(async (response) => {
        const decoder = new TextDecoder()
        for await (const chunk of response.body!) received.text += decoder.decode(chunk as Uint8Array)
      })
      .catch(() => undefined)
    yield* waitFor("the stream to open", Effect.sync(() => server.open > before))
    return received
  })

const headsSent = (server: BeaconNodeServer) => server.sent.get("head") ?? 0

/** Each random draw is 0.5: jitter 15 ms, no skip or reorg unless their chance is above one half. */
const calm = Random.fixed([0.5])

describe("Devnet", () => {
  it.scoped("serves genesis, spec, syncing, health and the head header", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const devnet = yield* Devnet.make({ faults: false, secondsPerSlot: 2 })
      expect(devnet.urls).toHaveLength(3)
      expect(devnet.genesisTime).toBe(1_700_000_000)
      const [url] = devnet.urls
      const genesis = yield* getJson(`${url}/eth/v1/beacon/genesis`)
      expect(genesis.body.data["genesis_time"]).toBe("1700000000")
      const spec = yield* getJson(`${url}/eth/v1/config/spec`)
      expect(spec.body.data).toMatchObject({ SECONDS_PER_SLOT: "2", CONFIG_NAME: "simulated-devnet" })
      const health = yield* getJson(`${url}/eth/v1/node/health`)
      expect(health.status).toBe(200)

      yield* TestClock.adjust("2100 millis")
      const head = yield* devnet.head
      expect(head.slot).toBe(1)
      const header = yield* getJson(`${url}/eth/v1/beacon/headers/head`)
      expect(header.body.data).toMatchObject({ root: head.root, header: { message: { slot: "1" } } })
      const syncing = yield* getJson(`${url}/eth/v1/node/syncing`)
      expect(syncing.body.data).toMatchObject({ head_slot: "1", sync_distance: "0", is_syncing: false })
    }).pipe(Effect.withRandom(calm)))

  it.scoped("every node sees each head, each with its own delay", () =>
    Effect.gen(function*() {
      const devnet = yield* Devnet.make({ faults: false })
      const streams = yield* Effect.forEach(devnet.nodes, (node) => listen(node.server))
      const servers = devnet.nodes.map((node) => node.server)
      // Delays with the jitter pinned at 15 ms: 19, 37 and 55 ms after the slot starts.
      yield* TestClock.adjust("2020 millis")
      expect(servers.map(headsSent)).toEqual([1, 0, 0])
      yield* TestClock.adjust("20 millis")
      expect(servers.map(headsSent)).toEqual([1, 1, 0])
      yield* TestClock.adjust("20 millis")
      expect(servers.map(headsSent)).toEqual([1, 1, 1])
      const { root } = yield* devnet.head
      for (const stream of streams) {
        yield* waitFor("the head on every stream", Effect.sync(() => stream.text.includes(root)))
        expect(stream.text).toContain(`"slot":"1"`)
      }
      yield* TestClock.adjust("2 seconds")
      expect(servers.map(headsSent)).toEqual([2, 2, 2])
    }).pipe(Effect.withRandom(calm)))

  it.scoped("a node restarts: refused while down, then replays old heads to its first subscriber", () =>
    Effect.gen(function*() {
      const devnet = yield* Devnet.make({ restartEvery: 3, silenceEvery: 1000, skipProbability: 0, reorgProbability: 0 })
      const restarting = devnet.nodes[1]!
      yield* listen(restarting.server)
      yield* TestClock.adjust("6000 millis")
      // The restart stops the server (real I/O), then sleeps its downtime on the TestClock.
      yield* waitFor("the restart to wait out its downtime", Effect.map(TestClock.sleeps(), Chunk.contains(7800)))
      expect(restarting.condition).toBe("down")
      expect(restarting.server.open).toBe(0)
      const refused = yield* Effect.promise(() =>
        fetch(`${restarting.server.url}/eth/v1/node/health`).then(() => "answered", () => "refused")
      )
      expect(refused).toBe("refused")
      yield* TestClock.adjust("1800 millis")
      yield* waitFor("the node to be back", Effect.sync(() => restarting.condition === "up"))
      const before = headsSent(restarting.server)
      const stream = yield* listen(restarting.server)
      yield* waitFor("the replay", Effect.sync(() => headsSent(restarting.server) > before))
      // Slots 0 (genesis) to 3: a re-syncing node's burst of old heads.
      expect(headsSent(restarting.server) - before).toBe(4)
      yield* waitFor("the burst on the stream", Effect.sync(() => stream.text.includes(`"slot":"3"`)))
      expect(stream.text.indexOf(`"slot":"0"`)).toBeLessThan(stream.text.indexOf(`"slot":"3"`))
    }).pipe(Effect.withRandom(calm)))

  it.scoped("a node goes silent: nothing sent, its head falls behind, then it catches up", () =>
    Effect.gen(function*() {
      const devnet = yield* Devnet.make({
        silenceEvery: 4,
        silenceFor: 2,
        restartEvery: 1000,
        skipProbability: 0,
        reorgProbability: 0
      })
      const silent = devnet.nodes[2]!
      yield* TestClock.adjust("2100 millis")
      expect(silent.head.slot).toBe(1)
      // Silent from slot 2 to slot 3.
      yield* TestClock.adjust("4000 millis")
      expect(silent.condition).toBe("silent")
      expect(silent.head.slot).toBe(1)
      expect(devnet.nodes[0]!.head.slot).toBe(3)
      const syncing = yield* getJson(`${silent.server.url}/eth/v1/node/syncing`)
      expect(syncing.body.data).toMatchObject({ head_slot: "1", sync_distance: "2" })
      yield* TestClock.adjust("2000 millis")
      expect(silent.condition).toBe("up")
      expect(silent.head.slot).toBe(4)
    }).pipe(Effect.withRandom(calm)))

  it.scoped("skipped slots send nothing", () =>
    Effect.gen(function*() {
      const devnet = yield* Devnet.make({ skipProbability: 1, restartEvery: 1000, silenceEvery: 1000 })
      yield* Effect.forEach(devnet.nodes, (node) => listen(node.server))
      yield* TestClock.adjust("10 seconds")
      expect(devnet.nodes.map((node) => headsSent(node.server))).toEqual([0, 0, 0])
      expect((yield* devnet.head).slot).toBe(0)
    }).pipe(Effect.withRandom(calm)))

  it.scoped("a reorg: the head on the new fork first, then chain_reorg naming the old head", () =>
    Effect.gen(function*() {
      const devnet = yield* Devnet.make({
        skipProbability: 0,
        reorgProbability: 0.6,
        restartEvery: 1000,
        silenceEvery: 1000
      })
      const stream = yield* listen(devnet.nodes[0]!.server)
      // Slot 1 builds on genesis (a reorg needs a block to drop), slot 2 reorgs it away.
      yield* TestClock.adjust("2100 millis")
      const old = yield* devnet.head
      expect(old.slot).toBe(1)
      yield* TestClock.adjust("2000 millis")
      const head = yield* devnet.head
      expect(head.slot).toBe(2)
      expect(head.parentRoot).not.toBe(old.root)
      yield* waitFor("the reorg event", Effect.sync(() => stream.text.includes("chain_reorg")))
      const reorg = stream.text.slice(stream.text.indexOf("event: chain_reorg"))
      expect(stream.text.indexOf(head.root)).toBeLessThan(stream.text.indexOf("event: chain_reorg"))
      expect(reorg).toContain(`"old_head_block":"${old.root}"`)
      expect(reorg).toContain(`"new_head_block":"${head.root}"`)
      expect(reorg).toContain(`"depth":"1"`)
    }).pipe(Effect.withRandom(calm)))

  it.scoped("a node restarts on request, faults or not: POST /simulator/restart?down_ms=N", () =>
    Effect.gen(function*() {
      const devnet = yield* Devnet.make({ faults: false })
      const node = devnet.nodes[0]!
      const control = (method: string, query = "") =>
        Effect.promise(async () => {
          const response = await fetch(`${node.server.url}${Devnet.restartPath}${query}`, { method })
          return { status: response.status, body: await response.json() as Record<string, unknown> }
        })
      expect((yield* control("GET")).status).toBe(405)
      expect((yield* control("POST", "?down_ms=soon")).status).toBe(400)
      expect((yield* control("POST", "?down_ms=-1")).status).toBe(400)
      expect(node.condition).toBe("up")
      expect(yield* control("POST", "?down_ms=500")).toEqual({ status: 202, body: { data: { down_ms: 500 } } })
      yield* waitFor("the node down", Effect.sync(() => node.condition === "down"))
      const now = yield* Clock.currentTimeMillis
      yield* waitFor("the downtime's sleep", Effect.map(TestClock.sleeps(), Chunk.contains(now + 500)))
      yield* TestClock.adjust("500 millis")
      yield* waitFor("the node back", Effect.sync(() => node.condition === "up"))
      expect((yield* getJson(`${node.server.url}/eth/v1/node/health`)).status).toBe(200)
      expect(devnet.nodes.slice(1).map((other) => other.condition)).toEqual(["up", "up"])
    }).pipe(Effect.withRandom(calm)))

  it.scoped("a taken port fails with a clear error", () =>
    Effect.gen(function*() {
      const first = yield* Devnet.make({ nodes: 1, faults: false })
      const port = first.nodes[0]!.server.port
      const error = yield* Effect.flip(Devnet.make({ nodes: 1, basePort: port, faults: false }))
      expect(error.message).toBe(`simulated beacon node cannot listen on 127.0.0.1:${port}: EADDRINUSE`)
    }))
})
