/**
 * The `node:http` client for REST requests to beacon nodes, trusting extra CA
 * certificates besides the system's roots.
 *
 * Built on `HttpClient.make` (its URL building, tracing and abort signal) with
 * the request sent and its answer awaited in `node:http`'s own callbacks: the
 * monitor asks every node at start (its slot length, its head), and
 * `@effect/platform-node`'s client allocated ≈200 KB per request doing it with
 * fibers and streams (this one ≈60 KB).
 *
 * @since 0.1.0
 */
import { HttpClient, HttpClientError, type HttpClientRequest } from "@effect/platform"
import * as NodeSink from "@effect/platform-node/NodeSink"
import { Effect, Layer, Stream } from "effect"
import * as Http from "node:http"
import * as Https from "node:https"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import type { ReadableStream as WebReadableStream } from "node:stream/web"
import { trusted } from "../node/RequestOptions.js"
import { NodeResponse } from "./NodeResponse.js"

interface Agents {
  readonly http: Http.Agent
  readonly https: Https.Agent
}

const transportError = (request: HttpClientRequest.HttpClientRequest) => (cause: unknown) =>
  new HttpClientError.RequestError({ request, reason: "Transport", cause })

/** Waits for the answer's status and headers; an error before them fails the request. */
const answer = (nodeRequest: Http.ClientRequest, request: HttpClientRequest.HttpClientRequest) =>
  Effect.async<NodeResponse, HttpClientError.RequestError>((resume) => {
    const onError = (cause: unknown) => {
      nodeRequest.off("response", onResponse)
      resume(Effect.fail(transportError(request)(cause)))
    }
    const onResponse = (message: Http.IncomingMessage) => {
      nodeRequest.off("error", onError)
      resume(Effect.succeed(new NodeResponse(request, message)))
    }
    nodeRequest.once("error", onError)
    nodeRequest.once("response", onResponse)
    return Effect.sync(() => {
      nodeRequest.off("error", onError)
      nodeRequest.off("response", onResponse)
    })
  })

/** Sends a body that is not in memory (a stream, a form) while the answer is awaited. */
const sendStreamed = (nodeRequest: Http.ClientRequest, request: HttpClientRequest.HttpClientRequest) => {
  const { body } = request
  if (body._tag === "Stream") {
    return Stream.run(
      Stream.mapError(body.stream, (cause) => new HttpClientError.RequestError({ request, reason: "Encode", cause })),
      NodeSink.fromWritable(() => nodeRequest, transportError(request))
    )
  }
  if (body._tag !== "FormData") return Effect.void
  const form = new Response(body.formData)
  form.headers.forEach((value, key) => nodeRequest.setHeader(key, value))
  return Effect.tryPromise({
    try: () => pipeline(Readable.fromWeb(form.body! as WebReadableStream), nodeRequest),
    catch: transportError(request)
  })
}

const make = (agents: Agents): HttpClient.HttpClient =>
  HttpClient.make((request, url, signal) =>
    Effect.suspend(() => {
      const options = { method: request.method, headers: request.headers, signal }
      const nodeRequest = url.protocol === "https:"
        ? Https.request(url, { ...options, agent: agents.https })
        : Http.request(url, { ...options, agent: agents.http })
      // An error after the answer (the abort of a scoped request, say) must find a listener, or it would end the
      // process; the body's reader hears those that matter.
      nodeRequest.on("error", () => {})
      const { body } = request
      switch (body._tag) {
        case "Empty":
          nodeRequest.end()
          return answer(nodeRequest, request)
        case "Raw":
        case "Uint8Array":
          nodeRequest.end(body.body)
          return answer(nodeRequest, request)
        default:
          return Effect.zipRight(sendStreamed(nodeRequest, request), answer(nodeRequest, request), { concurrent: true })
      }
    })
  )

/**
 * The client; with `ca`, HTTPS servers signed by one of them are trusted too
 * (Node's `ca` option replaces the roots, so the roots are given with them).
 * Connections are kept for the next request to the same node: the monitor asks
 * each node again and again (the head on connect, quiet-chain probes, health
 * polls), and a new connection each time cost a TCP (and TLS) handshake. The
 * agents, and their kept connections, go with the layer's scope.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (ca: ReadonlyArray<string> = []): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(
    HttpClient.HttpClient,
    Effect.map(
      Effect.acquireRelease(
        Effect.sync((): Agents => {
          const options = ca.length === 0 ? { keepAlive: true } : { keepAlive: true, ca: trusted(ca) }
          return { http: new Http.Agent(options), https: new Https.Agent(options) }
        }),
        (agents) => Effect.sync(() => {
          agents.http.destroy()
          agents.https.destroy()
        })
      ),
      make
    )
  )
