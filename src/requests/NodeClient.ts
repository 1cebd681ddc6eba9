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
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (ca: ReadonlyArray<string> = []): Layer.Layer<HttpClient.HttpClient> =>
  ca.length === 0
    ? NodeHttpClient.layer
    : NodeHttpClient.layerWithoutAgent.pipe(
      Layer.provide(NodeHttpClient.makeAgentLayer({ ca: trusted(ca) }))
    )
