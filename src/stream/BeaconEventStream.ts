/**
 * One connection to a beacon node's event stream, `GET /eth/v1/events`.
 *
 * A connection delivers decoded events and always ends in a {@link BeaconStreamError}:
 * a normal end of the response is the `ended` failure, so the retry policy
 * reconnects instead of finishing. The stall watchdog runs on the byte stream
 * (keep-alive comments count) from the moment the request is sent, because a
 * real node sends its response headers only with its first event.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Runtime, type Scope } from "effect"
import * as Http from "node:http"
import * as Https from "node:https"
import type { BeaconEvent } from "../events/BeaconEvent.js"
import type { BeaconNode } from "../node/BeaconNode.js"
import { BeaconStreamError, fromStatus, fromTransport } from "./BeaconStreamError.js"
import * as SseDecoder from "./SseDecoder.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface ConnectOptions {
  /** Topics to subscribe to, sent as repeated `topics` parameters (default `["head"]`). */
  readonly topics?: ReadonlyArray<string>
  /** No byte for this long (headers included) fails the stream with `stalled`. */
  readonly idleTimeout: Duration.DurationInput
  /** Largest pending event, in characters; past it the stream fails with `oversized`. */
  readonly maxEventSize: number
  /** Runs once the node answered 200 with an event stream, in the connection's scope (closed when it ends). */
  readonly onOpen?: Effect.Effect<void, never, Scope.Scope>
  /** Fails the stream with its error when it completes: lets the monitor drop a connection it judged stale. */
  readonly stop?: Effect.Effect<never, BeaconStreamError>
  /** Called with the clock's time whenever bytes arrive (keep-alives included). */
  readonly onBytes?: (at: number) => void
}

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

/** Node's own HTTP client for this one long-lived request: it has no body timeout (the watchdog decides). */
const request = (url: URL): Http.ClientRequest =>
  (url.protocol === "https:" ? Https : Http).get(url, {
    headers: { accept: "text/event-stream", "cache-control": "no-cache" }
  })

/**
 * Opens one connection and hands its events to `onEvents`, a batch per chunk
 * of bytes, until it fails: it never succeeds. Interruption aborts the request.
 *
 * The body is read straight from `node:http` and decoded in its `data`
 * callback, which runs `onEvents` synchronously: this is the hot path, and an
 * Effect stream in between cost several times the decoding itself in time and
 * memory per connection. The watchdog and `stop` race the connection once.
 *
 * @since 0.1.0
 * @category constructors
 */
export const run = <R>(
  node: BeaconNode,
  options: ConnectOptions,
  onEvents: (events: ReadonlyArray<BeaconEvent>) => Effect.Effect<void, never, R>
): Effect.Effect<never, BeaconStreamError, R> =>
  Effect.gen(function*() {
    const clock = yield* Effect.clock
    const runEvents = Runtime.runSync(yield* Effect.runtime<R>())
    const idleMillis = Duration.toMillis(options.idleTimeout)
    const decoder = SseDecoder.make(options.maxEventSize)
    const fail = (reason: "stalled" | "ended" | "oversized" | "rejected", detail: string) =>
      new BeaconStreamError({ node: node.display, reason, detail })

    let lastByteAt = clock.unsafeCurrentTimeMillis()
    // Sleeps until the idle limit counted from the last byte.
    const watchdog: Effect.Effect<never, BeaconStreamError> = Effect.suspend(() => {
      const left = lastByteAt + idleMillis - clock.unsafeCurrentTimeMillis()
      return left <= 0
        ? Effect.fail(fail("stalled", `no data for ${Duration.format(Duration.millis(idleMillis))}`))
        : Effect.zipRight(Effect.sleep(left), watchdog)
    })

    // Destroyed when the connection's scope closes: that is the abort.
    const pending = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const req = request(eventsUrl(node, options.topics ?? ["head"]))
        // Errors after the response are seen on the response; an unheard 'error' would crash the process.
        req.on("error", () => {})
        return req
      }),
      (req) => Effect.sync(() => req.destroy())
    )

    const response = Effect.async<Http.IncomingMessage, BeaconStreamError>((resume) => {
      pending.once("response", (message) => resume(Effect.succeed(message)))
      pending.once("error", (error) => resume(Effect.fail(fromTransport(node.display, error))))
    })

    const body = (message: Http.IncomingMessage) =>
      Effect.async<never, BeaconStreamError>((resume) => {
        message.on("data", (bytes: Uint8Array) => {
          lastByteAt = clock.unsafeCurrentTimeMillis()
          options.onBytes?.(lastByteAt)
          const { events, oversized } = decoder.feed(bytes)
          if (events.length > 0) runEvents(onEvents(events))
          if (oversized) {
            message.removeAllListeners("data")
            resume(Effect.fail(fail("oversized", `event over ${options.maxEventSize} characters`)))
          }
        })
        // A normal end of the response is a failure: the retry policy reconnects.
        message.once("end", () => resume(Effect.fail(fail("ended", "the node closed the stream"))))
        message.once("error", (error) => resume(Effect.fail(fromTransport(node.display, error))))
        // Closed without an end: reset (when 'end' came first, this later resume is ignored).
        message.once("close", () => resume(Effect.fail(fromTransport(node.display, { code: "ECONNRESET" }))))
      })

    const connection = Effect.gen(function*() {
      const message = yield* response
      const status = message.statusCode ?? 0
      if (status !== 200) return yield* fromStatus(node.display, status)
      const contentType = message.headers["content-type"] ?? ""
      if (!contentType.toLowerCase().startsWith("text/event-stream")) {
        return yield* fail("rejected", `content-type ${JSON.stringify(contentType.slice(0, 64))}`)
      }
      if (options.onOpen !== undefined) yield* options.onOpen
      return yield* body(message)
    })

    return yield* Effect.raceFirst(
      connection,
      options.stop === undefined ? watchdog : Effect.raceFirst(watchdog, options.stop)
    )
  }).pipe(Effect.scoped)
