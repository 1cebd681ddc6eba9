/**
 * Incremental decoding of an event-stream body: bytes in, beacon events out.
 *
 * Built on the SSE parser of `@effect/experimental` (`Sse.makeParser`) rather
 * than `Sse.makeChannel`, for two reasons: the channel raises an oversized event
 * as a defect (which `Stream.retry` would not retry), and it obeys a `retry:`
 * field by sleeping in place. Here an oversized event is an ordinary value the
 * caller turns into a reconnect, and `retry:` is ignored: our own policy decides.
 *
 * @since 0.1.0
 */
import * as Sse from "@effect/experimental/Sse"
import * as BeaconEvent from "../events/BeaconEvent.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface SseDecoder {
  /**
   * Feeds one chunk of bytes; returns the events it completed, or
   * `"oversized"` when a pending event grew past the limit (the decoder is then
   * reset and the connection should be dropped).
   */
  readonly feed: (bytes: Uint8Array) => Array<BeaconEvent.BeaconEvent> | "oversized"
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (maxEventSize: number): SseDecoder => {
  const text = new TextDecoder("utf-8")
  let completed: Array<BeaconEvent.BeaconEvent> = []
  const parser = Sse.makeParser((event) => {
    if (event._tag === "Event") completed.push(BeaconEvent.decode(event))
  }, { maxEventSize })
  return {
    feed(bytes) {
      const error = parser.feed(text.decode(bytes, { stream: true }))
      const events = completed
      completed = []
      return error === undefined ? events : "oversized"
    }
  }
}
