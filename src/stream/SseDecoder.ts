/**
 * Incremental decoding of an event-stream body: bytes in, beacon events out.
 *
 * Built on the SSE parser of `@effect/experimental` (`Sse.makeParser`) rather
 * than `Sse.makeChannel`, for two reasons: the channel raises an oversized event
 * as a defect (which `Stream.retry` would not retry), and it obeys a `retry:`
 * field by sleeping in place. Here an oversized event is an ordinary value the
 * caller turns into a reconnect, and `retry:` is ignored: our own policy decides.
 *
 * Internal: not part of the package's entries.
 *
 * @internal
 */
import * as Sse from "@effect/experimental/Sse"
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

const LF = 10
const CR = 13

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (maxEventSize: number): SseDecoder => {
  let text = new TextDecoder("utf-8")
  let completed: Array<BeaconEvent.BeaconEvent> = []
  // An event that arrived whole in one chunk never counts as pending in the parser, so it is measured here too:
  // whether an event is oversized must not depend on how the bytes were split.
  let oversized = false
  // The parser forgets a `\r` that ended the previous chunk and would read the `\n` of that CRLF as an empty line.
  let endedWithCr = false
  const parser = Sse.makeParser((event) => {
    // Nothing after an oversized event counts: the connection is dropped there.
    if (event._tag !== "Event" || oversized) return
    if (event.data.length > maxEventSize) oversized = true
    else completed.push(BeaconEvent.decode(event))
  }, { maxEventSize })
  // The parser rescans its whole buffer from the start for every line (quadratic in the lines of a chunk, and a
  // `\r` of an earlier line then swallows the next blank line), so it is fed one line at a time: then its buffer
  // never holds more than the line at hand.
  const feedLines = (chunk: string): Sse.SseError | undefined => {
    let start = 0
    if (chunk.indexOf("\r") === -1) {
      // The common case, LF only: find the line ends natively.
      for (let end = chunk.indexOf("\n"); end !== -1; end = chunk.indexOf("\n", start)) {
        const error = parser.feed(chunk.slice(start, end + 1))
        if (error !== undefined || oversized) return error
        start = end + 1
      }
    } else {
      for (let index = 0; index < chunk.length; index++) {
        const code = chunk.charCodeAt(index)
        if (code === LF || (code === CR && chunk.charCodeAt(index + 1) !== LF)) {
          const error = parser.feed(chunk.slice(start, index + 1))
          if (error !== undefined || oversized) return error
          start = index + 1
        }
      }
    }
    return start < chunk.length ? parser.feed(chunk.slice(start)) : undefined
  }
  const reset = () => {
    parser.reset()
    text = new TextDecoder("utf-8")
    endedWithCr = false
    oversized = false
    completed = []
  }
  return {
    feed(bytes) {
      const decoded = text.decode(bytes, { stream: true })
      if (decoded === "") return nothing
      const chunk = endedWithCr && decoded.startsWith("\n") ? decoded.slice(1) : decoded
      endedWithCr = decoded.endsWith("\r")
      const error = feedLines(chunk)
      // The events completed before an oversized one are kept: only the hostile part is lost.
      const events = completed
      completed = []
      if (error !== undefined || oversized) {
        reset()
        return { events, oversized: true }
      }
      return events.length === 0 ? nothing : { events, oversized: false }
    }
  }
}
