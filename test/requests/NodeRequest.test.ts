/**
 * One JSON request to a node over real HTTP: answers that are not 200 release
 * their connection instead of holding it until the garbage collector runs.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { unsafeParse } from "../../src/node/BeaconNode.js"
import { getJson } from "../../src/requests/NodeRequest.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { waitFor } from "../support/wait.js"

const path = "/eth/v1/node/version"
const Version = Schema.Struct({ data: Schema.Struct({ version: Schema.String }) })
const requests = 30

/** A client that keeps connections for reuse, as a user may give the monitor (`layerNode`'s agent does not). */
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
})
