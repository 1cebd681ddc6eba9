/**
 * The `node:http` client for REST requests to beacon nodes, trusting extra CA
 * certificates besides the system's roots.
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Layer } from "effect"
import { trusted } from "../node/RequestOptions.js"

/**
 * The client; with `ca`, HTTPS servers signed by one of them are trusted too
 * (Node's `ca` option replaces the roots, so the roots are given with them).
 * Connections are kept for the next request to the same node: the monitor asks
 * each node again and again (the head on connect, quiet-chain probes, health
 * polls), and a new connection each time cost a TCP (and TLS) handshake.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (ca: ReadonlyArray<string> = []): Layer.Layer<HttpClient.HttpClient> =>
  NodeHttpClient.layerWithoutAgent.pipe(
    Layer.provide(NodeHttpClient.makeAgentLayer(ca.length === 0 ? { keepAlive: true } : { keepAlive: true, ca: trusted(ca) }))
  )
