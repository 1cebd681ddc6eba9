/**
 * One connection to a beacon node's event stream, `GET /eth/v1/events`.
 *
 * A connection delivers decoded events and always ends in a {@link BeaconStreamError}:
 * a normal end of the response is the `ended` failure, so the retry policy
 * reconnects instead of finishing. The stall watchdog runs on the byte stream
 * (keep-alive comments count) from the moment the request is sent, because a
 * real node sends its response headers only with its first event; at the idle
 * limit it lets the caller judge the silence (`onIdle`) before dropping.
 *
 * @since 0.1.0
 */
import { Cause, Duration, Effect, type Scope } from "effect"
import type { BeaconEvent } from "../events/BeaconEvent.js"
import type { BeaconNode } from "../node/BeaconNode.js"
import { NodeRequestOptions } from "../node/RequestOptions.js"
import { BeaconStreamError, fromStatus, handlingFailed } from "./BeaconStreamError.js"
import * as SseDecoder from "./SseDecoder.js"
import { type ChunkHandler, StreamTransport } from "./StreamTransport.js"
import * as Watchdog from "./Watchdog.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface ConnectOptions {
  /** Topics to subscribe to, sent as repeated `topics` parameters (default `["head"]`). */
  readonly topics?: ReadonlyArray<string>
  /** No byte for this long (headers included) fails the stream with `stalled`, unless `onIdle` keeps it. */
  readonly idleTimeout: Duration.DurationInput
  /**
   * Asked each time the stream has been silent for the idle limit (headers included): succeeds to keep the
   * connection for another idle period, fails with why to drop it as `stalled`. Without it, silence alone drops it.
   */
  readonly onIdle?: Effect.Effect<void, string>
  /** Largest pending event, in characters; past it the stream fails with `oversized`. */
  readonly maxEventSize: number
  /** Runs as the request is sent, in the connection's scope (closed when it ends). */
  readonly onRequest?: Effect.Effect<void, never, Scope.Scope>
  /** Runs once the node answered 200 with an event stream, in the connection's scope (closed when it ends). */
  readonly onOpen?: Effect.Effect<void, never, Scope.Scope>
  /**
   * Aborting it with a {@link BeaconStreamError} as reason fails the stream with that error at once: lets the
   * monitor drop a connection it judged stale. The watchdog drops the connection through it too.
   */
  readonly controller?: AbortController
  /** Called with the clock's time whenever bytes arrive (keep-alives included). */
  readonly onBytes?: (at: number) => void
  /** A watchdog shared with other connections (`Watchdog.make`); without it, the connection makes one of its own. */
  readonly watchdog?: Watchdog.Watchdog
}

/**
 * Opens one connection through the {@link StreamTransport} and hands its
 * events to `onEvents`, a batch per chunk of bytes with the clock's time of
 * its arrival, until it fails: it never succeeds. Interruption aborts the
 * request.
 *
 * Each chunk is decoded in the transport's callback, which calls `onEvents`:
 * this is the hot path, and an Effect stream in between cost several times the
 * decoding itself in time and memory per connection. The connection runs on
 * the caller's fiber and adds none of its own given a shared watchdog (one
 * watchdog fiber otherwise); the watchdog, like `controller`, drops the
 * connection by aborting the request's signal, not by racing fibers.
 * Whatever `onEvents` or the decoder throws fails this connection only, as a
 * `defect`: a throw in a socket's callback would otherwise end the process.
 *
 * @since 0.1.0
 * @category constructors
 */
export const run = (
  node: BeaconNode,
  options: ConnectOptions,
  onEvents: (events: ReadonlyArray<BeaconEvent>, receivedAt: number) => void
): Effect.Effect<never, BeaconStreamError, StreamTransport> =>
  Effect.gen(function*() {
    const transport = yield* StreamTransport
    const requestOptions = (yield* NodeRequestOptions).forNode(node)
    const clock = yield* Effect.clock
    const idleMillis = Duration.toMillis(options.idleTimeout)
    const decoder = SseDecoder.make(options.maxEventSize)
    const controller = options.controller ?? new AbortController()
    const fail = (reason: "stalled" | "ended" | "oversized" | "rejected", detail: string) =>
      new BeaconStreamError({ node: node.display, reason, detail })

    let lastByteAt = clock.unsafeCurrentTimeMillis()
    // The silence is judged again one idle period after this (the last byte, or the last time `onIdle` kept it).
    let judgedAt = lastByteAt
    const stall = (detail: string) => Effect.sync(() => controller.abort(fail("stalled", detail)))
    // At the idle limit counted from the last byte (or judgement): `onIdle` is asked, if given. A connection that is
    // being dropped (its signal aborted, by a judgement or otherwise) is due never again.
    const watched: Watchdog.Watched = {
      dueAt: () => controller.signal.aborted ? Infinity : Math.max(lastByteAt, judgedAt) + idleMillis,
      judge: Effect.suspend(() => {
        const silence = `no data for ${Duration.format(Duration.millis(clock.unsafeCurrentTimeMillis() - lastByteAt))}`
        if (options.onIdle === undefined) return stall(silence)
        const before = lastByteAt
        return options.onIdle.pipe(
          Effect.matchEffect({
            // Bytes that came while the node was asked end the silence whatever the answer.
            onFailure: (why) => lastByteAt !== before ? Effect.void : stall(`${silence}; ${why}`),
            onSuccess: () => Effect.sync(() => judgedAt = clock.unsafeCurrentTimeMillis())
          })
        )
      })
    }

    const onChunk: ChunkHandler = (bytes) => {
      try {
        lastByteAt = clock.unsafeCurrentTimeMillis()
        options.onBytes?.(lastByteAt)
        const { events, oversized } = decoder.feed(bytes)
        if (events.length > 0) onEvents(events, lastByteAt)
        return oversized ? fail("oversized", `event over ${options.maxEventSize} characters`) : undefined
      } catch (error) {
        return handlingFailed(node.display, Cause.die(error))
      }
    }

    const { signal } = controller
    // Dropped before it was opened: nothing is sent.
    if (signal.aborted) return yield* Effect.fail(signal.reason as BeaconStreamError)
    const watchdog = options.watchdog ?? (yield* Watchdog.make)
    yield* watchdog.watch(watched)
    if (options.onRequest !== undefined) yield* options.onRequest
    const response = yield* transport.open({ node, topics: options.topics ?? ["head"], options: requestOptions, signal })
    if (response.status !== 200) return yield* fromStatus(node.display, response.status)
    const contentType = response.headers["content-type"] ?? ""
    if (!contentType.toLowerCase().startsWith("text/event-stream")) {
      return yield* fail("rejected", `content-type ${JSON.stringify(contentType.slice(0, 64))}`)
    }
    if (options.onOpen !== undefined) yield* options.onOpen
    yield* response.read(onChunk)
    // A normal end of the response is a failure: the retry policy reconnects.
    return yield* fail("ended", "the node closed the stream")
  }).pipe(Effect.scoped)
