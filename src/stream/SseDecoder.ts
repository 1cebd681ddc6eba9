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
   * `"oversized"` when an event (pending or complete) grew past the limit: the
   * decoder is then reset, holding nothing, and the connection should be dropped.
   */
  readonly feed: (bytes: Uint8Array) => Array<BeaconEvent.BeaconEvent> | "oversized"
}

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
    if (event._tag !== "Event") return
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
        if (error !== undefined) return error
        start = end + 1
      }
    } else {
      for (let index = 0; index < chunk.length; index++) {
        const code = chunk.charCodeAt(index)
        if (code === LF || (code === CR && chunk.charCodeAt(index + 1) !== LF)) {
          const error = parser.feed(chunk.slice(start, index + 1))
          if (error !== undefined) return error
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
      if (decoded === "") return []
      const chunk = endedWithCr && decoded.startsWith("\n") ? decoded.slice(1) : decoded
      endedWithCr = decoded.endsWith("\r")
      const error = feedLines(chunk)
      if (error !== undefined || oversized) {
        reset()
        return "oversized"
      }
      const events = completed
      completed = []
      return events
    }
  }
}
