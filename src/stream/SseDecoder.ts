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
import { Buffer, isAscii } from "node:buffer"
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
  const text = makeTextDecoder()
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
      const chunk = text.decode(bytes)
      if (chunk === "") return nothing
      // The parser joins the line it holds with the whole next chunk, a copy of
      // every chunk: fed up to the chunk's first line end, it joins that line only.
      const lineEnd = chunk.indexOf("\n") + 1
      if (lineEnd > 0 && lineEnd < chunk.length) {
        parser.feed(chunk.slice(0, lineEnd))
        // An oversized line ends the parser's run until it is reset.
        if (!oversized) parser.feed(chunk.slice(lineEnd))
      } else {
        parser.feed(chunk)
      }
      // The events completed before an oversized one are kept: only the hostile part is lost.
      const events = completed
      if (oversized) {
        parser.reset()
        text.reset()
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

/**
 * Bytes to text, as a streaming UTF-8 `TextDecoder` would decode them, a byte
 * order mark at the start dropped. A chunk of ASCII alone (every chunk of a
 * beacon node's JSON, in practice) is copied as Latin-1, which reads ASCII the
 * same, in a fraction of the decoder's time, unless the decoder may hold the
 * start of a character split across chunks.
 */
const makeTextDecoder = () => {
  // The mark is dropped here, not by the decoder: it sees only the chunks that are not ASCII.
  const utf8 = new TextDecoder("utf-8", { ignoreBOM: true })
  let atStart = true
  // Whether the decoder may hold the start of a character: it holds none after an ASCII byte.
  let holding = false
  return {
    decode(bytes: Uint8Array): string {
      let text: string
      if (!holding && isAscii(bytes)) {
        text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1")
      } else {
        text = utf8.decode(bytes, { stream: true })
        if (bytes.length > 0) holding = bytes[bytes.length - 1]! >= 0x80
      }
      if (atStart && text !== "") {
        atStart = false
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
      }
      return text
    },
    /** Back to a fresh stream: the start of a character held is dropped. */
    reset() {
      utf8.decode()
      atStart = true
      holding = false
    }
  }
}
