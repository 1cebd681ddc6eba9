/**
 * One JSON request to a beacon node's REST API, with errors that are safe to
 * show.
 *
 * The URL of a node may carry secrets (an API key in the query, a password), so
 * the request is built with `node.endpoint(path)`, no tracing span records it,
 * and a failure names the node only by its display form and the path asked.
 *
 * @since 0.1.0
 */
import { HttpClient, HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { Data, Duration, Effect, Redacted, Schema, Stream } from "effect"
import type { BeaconNode } from "../node/BeaconNode.js"
import { NodeRequestOptions } from "../node/RequestOptions.js"
import { fromTransport } from "../stream/BeaconStreamError.js"

/**
 * - `refused`, `reset`, `timeout`, `unreachable`, `tls` (a failed TLS handshake): the node could not be reached;
 * - `status`: the node answered with a status other than 200;
 * - `invalid`: the body was not the JSON expected.
 *
 * @since 0.1.0
 * @category models
 */
export type NodeRequestFailure = "refused" | "reset" | "timeout" | "unreachable" | "tls" | "status" | "invalid"

/**
 * @since 0.1.0
 * @category errors
 */
export class NodeRequestError extends Data.TaggedError("NodeRequestError")<{
  /** Display form of the node (no secrets). */
  readonly node: string
  /** The API path asked, without the node's base URL or query. */
  readonly path: string
  readonly reason: NodeRequestFailure
  /** A short, secret-free detail: an error code, an HTTP status, a decoding problem. */
  readonly detail: string
  /** The HTTP status, when the node answered. */
  readonly status?: number
}> {
  /** The node could not be reached (as opposed to: it answered, but not as wanted). */
  get isUnreachable(): boolean {
    return this.reason !== "status" && this.reason !== "invalid"
  }

  override get message() {
    return `${this.node} ${this.path}: ${this.reason} (${this.detail})`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface GetOptions {
  /** Query parameters added to the node's own (an API key in the base URL is kept). */
  readonly query?: Readonly<Record<string, string | number>>
  /** Fail with `timeout` after this long (default 4 s). */
  readonly timeout?: Duration.DurationInput
}

const defaultTimeout = Duration.seconds(4)

/** The largest body of an answer other than 200 that is read to keep its connection; a larger one drops it. */
const drainLimit = 16 * 1024

/**
 * Reads an error body to its end if it is small, so that a kept-alive connection serves the next request (a node
 * that is syncing answers 503 to every poll); past `drainLimit` the reading stops and the connection is dropped.
 */
const drained = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<void> =>
  Effect.ignore(Stream.runFoldWhile(response.stream, 0, (read) => read <= drainLimit, (read, bytes) => read + bytes.length))

const notJson = Symbol("notJson")

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return notJson
  }
}

/** Keeps a decoding problem short: a hostile node must not fill the logs. */
const shorten = (text: string): string => text.length > 200 ? `${text.slice(0, 200)}…` : text

/**
 * `GET path` on the node, decoding the JSON body with `schema` (e.g. a
 * `Schema.Struct({ data: ... })`).
 *
 * @since 0.1.0
 * @category requests
 */
export const getJson = <A, I, R>(
  node: BeaconNode,
  path: string,
  schema: Schema.Schema<A, I, R>,
  options: GetOptions = {}
): Effect.Effect<A, NodeRequestError, HttpClient.HttpClient | R> =>
  Effect.gen(function*() {
    // Spans would record the full URL, secrets included. Scoped: the request is aborted when its scope
    // closes, so an answer whose body is never read (any status but 200) gives its connection back at once
    // instead of holding it (and, with a keep-alive pool, a pool slot) until the garbage collector runs.
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.withTracerDisabledWhen(() => true),
      HttpClient.withScope
    )
    const url = node.endpoint(path)
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, String(value))
    const fail = (reason: NodeRequestFailure, detail: string, status?: number) =>
      new NodeRequestError({ node: node.display, path, reason, detail, ...(status === undefined ? {} : { status }) })
    const unreachable = (error: { readonly cause?: unknown }) => {
      const classified = fromTransport(node.display, error.cause ?? error)
      const reason = classified.reason === "timeout" || classified.reason === "refused" ||
          classified.reason === "unreachable" || classified.reason === "tls"
        ? classified.reason
        : "reset"
      return fail(reason, classified.detail)
    }
    const timeout = options.timeout ?? defaultTimeout
    // The node's own headers (an API key): their values are redacted everywhere but on the wire.
    const { headers } = (yield* NodeRequestOptions).forNode(node)
    const request = HttpClientRequest.get(url, { acceptJson: true }).pipe(
      HttpClientRequest.setHeaders(Object.fromEntries(headers.map(([name, value]) => [name, Redacted.value(value)])))
    )
    return yield* client.execute(request).pipe(
      Effect.mapError(unreachable),
      Effect.flatMap((response) =>
        response.status !== 200
          ? Effect.zipRight(drained(response), Effect.fail(fail("status", `HTTP ${response.status}`, response.status)))
          // The body read as text, then parsed here: a connection that breaks mid-body is `reset`, not `invalid`.
          : response.text.pipe(
            Effect.mapError(unreachable),
            Effect.flatMap((text) => {
              const body = parseJson(text)
              return body === notJson
                ? Effect.fail(fail("invalid", "body is not JSON"))
                : Effect.mapError(Schema.decodeUnknown(schema)(body), (error) => fail("invalid", shorten(error.message)))
            })
          )
      ),
      Effect.scoped,
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () => fail("timeout", `no answer within ${Duration.format(Duration.decode(timeout))}`)
      })
    )
  })
