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
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { type Chunk, Duration, Effect, type Scope, Stream } from "effect"
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

/**
 * Opens one connection and hands its events to `onEvents`, a batch per chunk
 * of bytes, until it fails: it never succeeds. Closing its scope (interruption)
 * aborts the request.
 *
 * The watchdog and `stop` race the connection once, not once per chunk: the
 * per-chunk work is one clock read, the decoding and `onEvents`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const run = <R>(
  node: BeaconNode,
  options: ConnectOptions,
  onEvents: (events: ReadonlyArray<BeaconEvent>) => Effect.Effect<void, never, R>
): Effect.Effect<never, BeaconStreamError, HttpClient.HttpClient | R> =>
  Effect.gen(function*() {
    // Spans would record the full URL, secrets included; the request is aborted when this scope closes.
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.withTracerDisabledWhen(() => true),
      HttpClient.withScope
    )
    const clock = yield* Effect.clock
    const idleMillis = Duration.toMillis(options.idleTimeout)
    const decoder = SseDecoder.make(options.maxEventSize)
    const fail = (reason: "stalled" | "ended" | "oversized" | "rejected", detail: string) =>
      new BeaconStreamError({ node: node.display, reason, detail })
    const transport = (error: { readonly cause?: unknown }) => fromTransport(node.display, error.cause ?? error)

    let lastByteAt = clock.unsafeCurrentTimeMillis()
    // Sleeps until the idle limit counted from the last byte.
    const watchdog: Effect.Effect<never, BeaconStreamError> = Effect.suspend(() => {
      const left = lastByteAt + idleMillis - clock.unsafeCurrentTimeMillis()
      return left <= 0
        ? Effect.fail(fail("stalled", `no data for ${Duration.format(Duration.millis(idleMillis))}`))
        : Effect.zipRight(Effect.sleep(left), watchdog)
    })

    const request = HttpClientRequest.get(eventsUrl(node, options.topics ?? ["head"])).pipe(
      HttpClientRequest.setHeaders({ accept: "text/event-stream", "cache-control": "no-cache" })
    )

    const onChunk = (chunk: Chunk.Chunk<Uint8Array>) => {
      lastByteAt = clock.unsafeCurrentTimeMillis()
      options.onBytes?.(lastByteAt)
      let events: Array<BeaconEvent> | undefined
      for (const bytes of chunk) {
        const decoded = decoder.feed(bytes)
        if (decoded === "oversized") return Effect.fail(fail("oversized", `event over ${options.maxEventSize} characters`))
        if (decoded.length > 0) events = events === undefined ? decoded : events.concat(decoded)
      }
      return events === undefined ? Effect.void : onEvents(events)
    }

    const connection = Effect.gen(function*() {
      const response = yield* Effect.mapError(client.execute(request), transport)
      if (response.status !== 200) return yield* fromStatus(node.display, response.status)
      const contentType = response.headers["content-type"] ?? ""
      if (!contentType.toLowerCase().startsWith("text/event-stream")) {
        return yield* fail("rejected", `content-type ${JSON.stringify(contentType.slice(0, 64))}`)
      }
      if (options.onOpen !== undefined) yield* options.onOpen
      yield* response.stream.pipe(Stream.mapError(transport), Stream.runForEachChunk(onChunk))
      // A normal end of the response is a failure: the retry policy reconnects.
      return yield* fail("ended", "the node closed the stream")
    })

    return yield* Effect.raceFirst(
      connection,
      options.stop === undefined ? watchdog : Effect.raceFirst(watchdog, options.stop)
    )
  }).pipe(Effect.scoped)
