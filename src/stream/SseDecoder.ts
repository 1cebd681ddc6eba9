/**
 * Incremental decoding of an event-stream body: bytes in, beacon events out.
 *
 * Built on `eventsource-parser` (the parser inside the `eventsource` client):
 * it finds line ends natively and dispatches an event as soon as its blank
 * line arrives. A `retry:` field is ignored (our own policy decides), and an
 * oversized event is an ordinary result the caller turns into a reconnect.
 *
 * Internal: not part of the package's entries.
 *
 * @internal
 */
import { createParser, type ParseError } from "eventsource-parser"
import * as BeaconEvent from "../events/BeaconEvent.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface SseDecoder {
  /**
   * Feeds one chunk of bytes; returns the events it completed and whether an
   * event (pending or complete) grew past the limit. Then the events are those
   * completed before it, the decoder is reset, holding nothing, and the
   * connection should be dropped.
   */
  readonly feed: (bytes: Uint8Array) => FeedResult
}

/**
 * @since 0.1.0
 * @category models
 */
export interface FeedResult {
  readonly events: Array<BeaconEvent.BeaconEvent>
  readonly oversized: boolean
}

const nothing: FeedResult = { events: [], oversized: false }

/**
 * A decoder whose events may hold at most `maxEventSize` characters of data.
 *
 * The parser measures what it holds between chunks (the pending event's data
 * and its unfinished line; its name and id are one line each) and lets go of
 * it past the limit, so memory never grows past the limit plus one chunk; an
 * event that arrives whole within a chunk is measured here, so that it is
 * oversized however the bytes were split.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (maxEventSize: number): SseDecoder => {
  let text = new TextDecoder("utf-8")
  let completed: Array<BeaconEvent.BeaconEvent> = []
  let oversized = false
  const parser = createParser({
    onEvent(event) {
      // Nothing after an oversized event counts: the connection is dropped there.
      if (oversized) return
      if (event.data.length > maxEventSize) oversized = true
      else completed.push(BeaconEvent.decode(event))
    },
    // Unknown fields and a bad `retry:` are ignored, as the SSE standard says.
    onError(error: ParseError) {
      if (error.type === "max-buffer-size-exceeded") oversized = true
    },
    maxBufferSize: maxEventSize
  })
  return {
    feed(bytes) {
      // The decoder keeps a character split across chunks and drops a byte order mark at the start.
      const chunk = text.decode(bytes, { stream: true })
      if (chunk === "") return nothing
      parser.feed(chunk)
      // The events completed before an oversized one are kept: only the hostile part is lost.
      const events = completed
      if (oversized) {
        parser.reset()
        text = new TextDecoder("utf-8")
        oversized = false
        completed = []
        return { events, oversized: true }
      }
      if (events.length === 0) return nothing
      completed = []
      return { events, oversized: false }
    }
  }
}
