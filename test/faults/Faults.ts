/**
 * The fault matrix: what the faulty beacon node does, for how long, how it is
 * healed, and what the monitor must show for it. Every fault lasts
 * `settings.slots` slots on one node while the others stay healthy.
 */
import { Effect } from "effect"
import type { DisconnectReason } from "../../src/stream/BeaconStreamError.js"
import type { BeaconNodeServer } from "../../src/simulator/BeaconNodeServer.js"
import { headData } from "../support/chain.js"
import { type Devnet, type Emitter, monitorOptions, settings, waitUntil } from "./FaultHarness.js"

/** Where recovery is measured from, and which server is the faulty node once the fault is over. */
export interface FaultEnd {
  readonly recoverFrom: number
  readonly server: BeaconNodeServer
}

/**
 * @property disconnects - the faulty node must show at least one of these reasons;
 *   `"none"`: it must keep its connection (poison is dropped, not reconnected).
 */
export interface Fault {
  readonly name: string
  readonly what: string
  readonly disconnects: ReadonlyArray<DisconnectReason> | "none"
  /** The faulty node's invalid-event counter must grow. */
  readonly poison?: boolean
  /** Applies the fault to node `k`, holds it, heals it. */
  readonly run: (net: Devnet, k: number) => Effect.Effect<FaultEnd>
}

const window = Effect.suspend(() => Effect.sleep(settings.slots * settings.slotMs))

const healedNow = (server: BeaconNodeServer): FaultEnd => ({ recoverFrom: performance.now(), server })

/** Holds `apply` for the fault window, then `heal`; the node's ticker emitter is `emitter` meanwhile. */
const held = (
  apply: (server: BeaconNodeServer) => Effect.Effect<void>,
  heal: (server: BeaconNodeServer) => Effect.Effect<void>,
  emitter?: Emitter
) =>
(net: Devnet, k: number): Effect.Effect<FaultEnd> =>
  Effect.gen(function*() {
    const server = net.servers[k]!
    const normal = net.emitters[k]!
    if (emitter !== undefined) net.emitters[k] = emitter
    yield* apply(server)
    yield* window
    net.emitters[k] = normal
    yield* heal(server)
    return healedNow(server)
  })

const stop = (server: BeaconNodeServer) => Effect.promise(() => server.stop())
const listen = (server: BeaconNodeServer) => Effect.promise(() => server.listen())
const silentEmitter: Emitter = () => {}
const rawEmitter = (text: string): Emitter => (server) => {
  server.sendRaw(text)
}

const statusFault = (status: number, disconnects: ReadonlyArray<DisconnectReason>): Fault => ({
  name: `HTTP ${status}`,
  what: `answers ${status} to every request, open streams ended`,
  disconnects,
  run: held((server) =>
    Effect.sync(() => {
      server.mode = { _tag: "status", status }
      server.endStreams()
    }), (server) =>
    Effect.sync(() => {
      server.mode = { _tag: "stream" }
    }))
})

/** A head event written one byte per slot: bytes flow, no event completes. */
const slowDrip = (): Fault => {
  const text = `event: head\ndata: ${JSON.stringify(headData(0))}\n\n`
  let written = 0
  return {
    name: "slow drip",
    what: "writes one byte per slot (well inside the stall limit), no event completes",
    disconnects: "none",
    run: held(
      () => Effect.void,
      (server) =>
        Effect.sync(() => {
          server.sendRaw(text.slice(written))
        }),
      (server) => {
        if (written < text.length) server.sendRaw(text.slice(written, ++written))
      }
    )
  }
}

/** The whole matrix; SIGTERM mid-backoff runs in a child process (see sigterm.test.ts). */
export const faults = (): ReadonlyArray<Fault> => [
  {
    name: "kill + restart",
    what: "server killed with streams open (sockets destroyed), back on the same port after the window",
    disconnects: ["reset", "ended"],
    run: held(stop, listen, silentEmitter)
  },
  {
    name: "graceful restart",
    what: "streams ended cleanly, server down for the window, back on the same port",
    disconnects: ["ended", "reset"],
    run: held((server) => Effect.zipRight(Effect.sync(() => server.endStreams()), stop(server)), listen, silentEmitter)
  },
  {
    name: "connection refused",
    what: "a node is put in the list while nothing listens on its port; it starts after the window",
    disconnects: ["refused"],
    run: (net, k) =>
      Effect.gen(function*() {
        const fresh = yield* net.newServer
        yield* stop(fresh)
        net.servers[k] = fresh
        yield* net.update(net.servers.map((s) => s.url))
        yield* window
        yield* listen(fresh)
        return healedNow(fresh)
      })
  },
  {
    name: "stall",
    what: "stream open and silent, new requests never answered",
    disconnects: ["stalled"],
    run: held((server) =>
      Effect.sync(() => {
        server.mode = { _tag: "silent" }
      }), (server) =>
      Effect.sync(() => {
        server.mode = { _tag: "stream" }
      }), silentEmitter)
  },
  slowDrip(),
  statusFault(404, ["rejected"]),
  statusFault(400, ["rejected"]),
  statusFault(500, ["server_error"]),
  statusFault(503, ["server_error"]),
  {
    name: "malformed JSON",
    what: "every head event's data is broken JSON",
    disconnects: "none",
    poison: true,
    run: held(() => Effect.void, () => Effect.void, rawEmitter(`event: head\ndata: {"slot": "1", "block": 0x\n\n`))
  },
  {
    name: "unknown event",
    what: "sends events with a name no beacon API topic has",
    disconnects: "none",
    poison: true,
    run: held(() => Effect.void, () => Effect.void, rawEmitter(`event: not_a_topic\ndata: {}\n\n`))
  },
  {
    name: "oversized event",
    what: `sends a head event over the ${monitorOptions.maxEventSize} character limit each slot`,
    disconnects: ["oversized"],
    run: held(
      () => Effect.void,
      () => Effect.void,
      rawEmitter(`event: head\ndata: "${"x".repeat((monitorOptions.maxEventSize ?? 0) + 1)}"\n\n`)
    )
  },
  {
    name: "list change mid-connect",
    what: "the node is replaced in the list while its request waits for an answer",
    disconnects: [],
    run: (net, k) =>
      Effect.gen(function*() {
        const old = net.servers[k]!
        net.emitters[k] = silentEmitter
        old.mode = { _tag: "silent" }
        const requests = old.requests
        old.endStreams()
        const oldId = old.url
        yield* waitUntil(() => old.requests > requests, 5_000, "the node reconnects into the silent server")
        const status = yield* net.monitor.status
        const state = status.find((s) => s.node.id === oldId)?.state._tag
        if (state !== "Connecting") return yield* Effect.dieMessage(`expected Connecting, got ${state}`)
        const fresh = yield* net.newServer
        net.servers[k] = fresh
        net.emitters[k] = (server, slot) => {
          server.send("head", headData(slot))
        }
        yield* net.update(net.servers.map((s) => s.url))
        const from = performance.now()
        // The replaced node's pending request must be aborted, and no new one made.
        yield* waitUntil(() => old.closed === old.requests, 5_000, "the replaced node's request is aborted")
        yield* window
        if (old.requests !== requests + 1) return yield* Effect.dieMessage("the replaced node was asked again")
        return { recoverFrom: from, server: fresh }
      })
  }
]
