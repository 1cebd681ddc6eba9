/**
 * How a connection to a node's event stream reaches the node: a service, so
 * that the stream's logic (decoder, watchdog, policy) runs the same over a real
 * socket and over a scripted node in tests.
 *
 * The body is pushed, not pulled: each chunk is handed to a callback as it
 * arrives, in the transport's own callback. An Effect stream per chunk cost
 * several times the decoding itself, and the chunk handler is the hot path.
 *
 * @since 0.1.0
 */
import { Context, Effect, type Scope } from "effect"
import type { BeaconNode } from "../node/BeaconNode.js"
import type { NodeOptions } from "../node/RequestOptions.js"
import type { BeaconStreamError } from "./BeaconStreamError.js"

/**
 * One request for a node's event stream.
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamRequest {
  readonly node: BeaconNode
  /** Sent as repeated `topics` parameters. */
  readonly topics: ReadonlyArray<string>
  /** The node's extra headers and trusted CAs. */
  readonly options: NodeOptions
  /**
   * Aborted (its reason a {@link BeaconStreamError}) to drop the connection: `open` or the body's `read`, whichever
   * is waiting, fails at once with that reason. The watchdog and the monitor drop connections this way, without a
   * fiber racing each one.
   */
  readonly signal: AbortSignal
}

/**
 * Called with each chunk of the body, synchronously. Returning an error stops
 * the reading: the body is left unread and {@link StreamResponse.read} fails
 * with that error.
 *
 * @since 0.1.0
 * @category models
 */
export type ChunkHandler = (bytes: Uint8Array) => BeaconStreamError | undefined

/**
 * A node's answer, once its status and headers arrived.
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamResponse {
  readonly status: number
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>
  /**
   * Reads the body into `onChunk` (once per response): succeeds when the node
   * ends the body normally, fails when the connection breaks or `onChunk` stops it.
   */
  readonly read: (onChunk: ChunkHandler) => Effect.Effect<void, BeaconStreamError>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface StreamTransportService {
  /**
   * Sends the request and waits for the response's status and headers. The
   * request lives in the scope: closing it (or interrupting the wait) aborts it.
   */
  readonly open: (request: StreamRequest) => Effect.Effect<StreamResponse, BeaconStreamError, Scope.Scope>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class StreamTransport extends Context.Tag("beacon-head-monitor/StreamTransport")<
  StreamTransport,
  StreamTransportService
>() {}

/**
 * A transport's wait (for the response, for the end of the body) that the
 * request's `signal` ends: `wait` starts it and calls `settle` with its
 * outcome, built only if it is the first (an error after the end or after an
 * abort is never made). An abort, before or during the wait, fails it with the
 * signal's reason. Both transports wait this way; a transport of your own may too.
 *
 * @since 0.1.0
 * @category constructors
 */
export const abortable = <A>(
  signal: AbortSignal,
  wait: (settle: (outcome: () => Effect.Effect<A, BeaconStreamError>) => void) => void
): Effect.Effect<A, BeaconStreamError> =>
  Effect.async<A, BeaconStreamError>((resume) => {
    let settled = false
    const onAbort = () => settle(() => Effect.fail(signal.reason as BeaconStreamError))
    const settle = (outcome: () => Effect.Effect<A, BeaconStreamError>) => {
      if (settled) return
      settled = true
      signal.removeEventListener("abort", onAbort)
      resume(outcome())
    }
    if (signal.aborted) return onAbort()
    signal.addEventListener("abort", onAbort, { once: true })
    wait(settle)
    return Effect.sync(() => signal.removeEventListener("abort", onAbort))
  })
