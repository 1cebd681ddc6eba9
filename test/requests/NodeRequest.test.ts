/**
 * One JSON request to a node over real HTTP: answers that are not 200 release
 * their connection instead of holding it until the garbage collector runs, and
 * the monitor's own client keeps one connection for all of them.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { unsafeParse } from "../../src/node/BeaconNode.js"
import * as NodeClient from "../../src/requests/NodeClient.js"
import { getJson } from "../../src/requests/NodeRequest.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { waitFor } from "../support/wait.js"

const path = "/eth/v1/node/version"
const Version = Schema.Struct({ data: Schema.Struct({ version: Schema.String }) })
const requests = 30

/** A client that keeps connections for reuse, as a user may give the monitor. */
const keepAlive = NodeHttpClient.layerWithoutAgent.pipe(
  Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: true }))
)

describe("getJson", () => {
  it.scoped("many answers other than 200 in a row leave no connection open", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      server.route(path, () => ({ status: 503, body: { code: 503, message: "syncing" } }))
      const node = unsafeParse(server.url)
      for (let i = 0; i < requests; i++) {
        const error = yield* Effect.flip(getJson(node, path, Version))
        expect(error).toMatchObject({ reason: "status", status: 503, detail: "HTTP 503" })
      }
      yield* waitFor("the connections to close", Effect.sync(() => server.connections <= 1))
      expect(server.connections).toBeLessThanOrEqual(1)
    }).pipe(Effect.provide(keepAlive)))

  it.scoped("answers of 200 share one connection, also after answers that are not", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      let healthy = false
      server.route(path, () =>
        healthy ? { status: 200, body: { data: { version: "sim/1" } } } : { status: 500, body: { code: 500 } })
      const node = unsafeParse(server.url)
      for (let i = 0; i < 5; i++) yield* Effect.flip(getJson(node, path, Version))
      healthy = true
      for (let i = 0; i < 5; i++) expect((yield* getJson(node, path, Version)).data.version).toBe("sim/1")
      yield* waitFor("the connections to close", Effect.sync(() => server.connections <= 1))
      expect(server.connections).toBeLessThanOrEqual(1)
    }).pipe(Effect.provide(keepAlive)))

  it.scoped("the monitor's client asks one node again and again over one connection, whatever it answers", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      let answer = 0
      server.route(path, () =>
        answer++ % 2 === 0 ? { status: 404, body: { code: 404, message: "not found" } } : { status: 200, body: { data: { version: "sim/1" } } })
      const node = unsafeParse(server.url)
      for (let i = 0; i < 10; i++) {
        if (i % 2 === 0) expect(yield* Effect.flip(getJson(node, path, Version))).toMatchObject({ status: 404 })
        else expect((yield* getJson(node, path, Version)).data.version).toBe("sim/1")
      }
      expect(server.accepted).toBe(1)
    }).pipe(Effect.provide(NodeClient.layer())))
})
