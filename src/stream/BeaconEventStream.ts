/**
 * One connection to a beacon node's event stream, `GET /eth/v1/events`.
 *
 * The stream emits decoded events and always ends in a {@link BeaconStreamError}:
 * a normal end of the response is the `ended` failure, so `Stream.retry`
 * reconnects instead of finishing. The stall watchdog runs on the byte stream
 * (keep-alive comments count) from the moment the request is sent, because a
 * real node sends its response headers only with its first event.
 *
 * @since 0.1.0
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Chunk, Duration, Effect, type Scope, Stream } from "effect"
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
 * Opens one connection and streams its events until it fails.
 *
 * @since 0.1.0
 * @category constructors
 */
export const connect = (
  node: BeaconNode,
  options: ConnectOptions
): Stream.Stream<BeaconEvent, BeaconStreamError, HttpClient.HttpClient> =>
  Stream.unwrapScoped(Effect.gen(function*() {
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

    let lastByteAt = clock.unsafeCurrentTimeMillis()
    // Sleeps until the idle limit counted from the last byte; cheap on the hot path: one assignment per chunk.
    const watchdog: Effect.Effect<never, BeaconStreamError> = Effect.suspend(() => {
      const left = lastByteAt + idleMillis - clock.unsafeCurrentTimeMillis()
      return left <= 0
        ? Effect.fail(fail("stalled", `no data for ${Duration.format(Duration.millis(idleMillis))}`))
        : Effect.zipRight(Effect.sleep(left), watchdog)
    })

    const request = HttpClientRequest.get(eventsUrl(node, options.topics ?? ["head"])).pipe(
      HttpClientRequest.setHeaders({ accept: "text/event-stream", "cache-control": "no-cache" })
    )

    const body = client.execute(request).pipe(
      Effect.mapError((error) => fromTransport(node.display, error.cause ?? error)),
      Effect.flatMap((response) => {
        if (response.status !== 200) return Effect.fail(fromStatus(node.display, response.status))
        const contentType = response.headers["content-type"] ?? ""
        if (!contentType.toLowerCase().startsWith("text/event-stream")) {
          return Effect.fail(fail("rejected", `content-type ${JSON.stringify(contentType.slice(0, 64))}`))
        }
        return Effect.as(options.onOpen ?? Effect.void, response.stream)
      }),
      Stream.unwrapScoped,
      Stream.mapError((error) => error instanceof BeaconStreamError ? error : fromTransport(node.display, error.cause ?? error))
    )

    return body.pipe(
      Stream.mapChunksEffect((chunk) => {
        lastByteAt = clock.unsafeCurrentTimeMillis()
        options.onBytes?.(lastByteAt)
        const events: Array<BeaconEvent> = []
        for (const bytes of chunk) {
          const decoded = decoder.feed(bytes)
          if (decoded === "oversized") {
            return Effect.fail(fail("oversized", `event over ${options.maxEventSize} characters`))
          }
          for (const event of decoded) events.push(event)
        }
        return Effect.succeed(Chunk.unsafeFromArray(events))
      }),
      Stream.interruptWhen(options.stop === undefined ? watchdog : Effect.raceFirst(watchdog, options.stop)),
      Stream.concat(Stream.fail(fail("ended", "the node closed the stream")))
    )
  }))
