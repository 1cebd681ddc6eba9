/**
 * The event stream's transport over Node's own `node:http`/`node:https`: one
 * long-lived request per connection, with no body timeout of its own (the
 * stall watchdog decides, where undici would cut the body after 300 s).
 *
 * @since 0.1.0
 */
import { Effect, Layer, Redacted, type Scope } from "effect"
import * as Http from "node:http"
import * as Https from "node:https"
import type { BeaconNode } from "../node/BeaconNode.js"
import { type NodeOptions, trusted } from "../node/RequestOptions.js"
import { type BeaconStreamError, fromTransport } from "./BeaconStreamError.js"
import { abortable, type ChunkHandler, type StreamRequest, type StreamResponse, StreamTransport } from "./StreamTransport.js"

/**
 * The URL of a node's event stream for the given topics.
 *
 * @since 0.1.0
 */
export const eventsUrl = (node: BeaconNode, topics: ReadonlyArray<string>): URL => {
  const url = node.endpoint("/eth/v1/events")
  for (const topic of topics) url.searchParams.append("topics", topic)
  return url
}

const send = (url: URL, options: NodeOptions): Http.ClientRequest => {
  const headers: Record<string, string> = {}
  for (const [name, value] of options.headers) headers[name] = Redacted.value(value)
  headers["accept"] = "text/event-stream"
  headers["cache-control"] = "no-cache"
  if (url.protocol !== "https:") return Http.get(url, { headers })
  const ca = trusted(options.ca)
  return Https.get(url, ca === undefined ? { headers } : { headers, ca })
}

/** The body of `message`, pushed to `onChunk` from the `data` callback. */
const reader = (display: string, message: Http.IncomingMessage, signal: AbortSignal) => (onChunk: ChunkHandler) =>
  abortable<void>(signal, (settle) => {
    const onData = (bytes: Uint8Array) => {
      const stop = onChunk(bytes)
      if (stop !== undefined) {
        message.off("data", onData)
        settle(() => Effect.fail(stop))
      }
    }
    message.on("data", onData)
    message.once("end", () => settle(() => Effect.void))
    message.once("error", (error) => settle(() => Effect.fail(fromTransport(display, error))))
    // Closed without an end: reset.
    message.once("close", () => settle(() => Effect.fail(fromTransport(display, { code: "ECONNRESET" }))))
  })

const open = ({ node, options, signal, topics }: StreamRequest): Effect.Effect<StreamResponse, BeaconStreamError, Scope.Scope> =>
  Effect.flatMap(
    // Destroyed when the connection's scope closes: that is the abort.
    Effect.acquireRelease(
      Effect.sync(() => {
        const request = send(eventsUrl(node, topics), options)
        // Errors after the response are seen on the response; an unheard 'error' would crash the process.
        request.on("error", () => {})
        return request
      }),
      (request) => Effect.sync(() => request.destroy())
    ),
    (request) =>
      abortable<StreamResponse>(signal, (settle) => {
        request.once("response", (message) =>
          settle(() =>
            Effect.succeed({
              status: message.statusCode ?? 0,
              // Only `set-cookie` comes as an array in node:http, and nothing here reads it.
              headers: message.headers as Readonly<Record<string, string | undefined>>,
              read: reader(node.display, message, signal)
            })
          ))
        request.once("error", (error) => settle(() => Effect.fail(fromTransport(node.display, error))))
      })
  )

/**
 * The Node implementation, the one the monitor uses unless told otherwise.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<StreamTransport> = Layer.succeed(StreamTransport, { open })
