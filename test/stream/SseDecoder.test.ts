import { describe, expect, it } from "@effect/vitest"
import { FastCheck } from "effect"
import { createParser } from "eventsource-parser"
import * as BeaconEvent from "../../src/events/BeaconEvent.js"
import * as SseDecoder from "../../src/stream/SseDecoder.js"
import { headData } from "../support/chain.js"
import { fixtures, type Summary, summarise } from "../support/sseFixtures.js"

const MiB = 1024 * 1024
const encoder = new TextEncoder()
const bytesOf = (text: string): Uint8Array => encoder.encode(text)

/** Feeds the chunks in order to a fresh decoder; fails the test on an oversized event. */
const decodeChunks = (chunks: Iterable<Uint8Array>, maxEventSize = MiB): Array<BeaconEvent.BeaconEvent> => {
  const decoder = SseDecoder.make(maxEventSize)
  const events: Array<BeaconEvent.BeaconEvent> = []
  for (const chunk of chunks) {
    const decoded = decoder.feed(chunk)
    if (decoded.oversized) throw new Error("unexpected oversized")
    events.push(...decoded.events)
  }
  return events
}

/** The bytes cut at the given sizes, cycling through them until the bytes run out. */
const cut = (bytes: Uint8Array, sizes: ReadonlyArray<number>): Array<Uint8Array> => {
  const chunks: Array<Uint8Array> = []
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const size = sizes[i % sizes.length]!
    chunks.push(bytes.subarray(offset, offset + size))
    offset += size
  }
  return chunks
}

/**
 * Splits the bytes in two at every position (both halves fed to one decoder)
 * and returns the positions whose result differs from the expectation.
 * Compares JSON text: one `toEqual` per position would make this slow.
 */
const badSplits = (bytes: Uint8Array, expected: Summary): Array<number> => {
  const want = JSON.stringify(expected)
  const bad: Array<number> = []
  for (let at = 0; at <= bytes.length; at++) {
    const got = JSON.stringify(summarise(decodeChunks([bytes.subarray(0, at), bytes.subarray(at)])))
    if (got !== want) bad.push(at)
  }
  return bad
}

/**
 * Makes every byte position a chunk boundary, in fewer runs than one per
 * position: run `offset` cuts at `offset`, `offset + period`, `offset + 2 * period`…
 * With a period longer than an event (the longest in the fixtures has 445 bytes),
 * an event is cut at most once per run, the cut seeing everything before it
 * already fed, as in a split in two. A split in two per position would decode
 * each transcript thousands of times: tens of seconds for all of them. Returns
 * the offsets whose run differs from the expectation.
 */
const badCuts = (bytes: Uint8Array, expected: Summary, period = 457): Array<number> => {
  const want = JSON.stringify(expected)
  const bad: Array<number> = []
  for (let offset = 0; offset < Math.min(period, bytes.length + 1); offset++) {
    const chunks = [bytes.subarray(0, offset), ...cut(bytes.subarray(offset), [period])]
    if (JSON.stringify(summarise(decodeChunks(chunks))) !== want) bad.push(offset)
  }
  return bad
}

const sse = (topic: string, data: unknown): string => `event: ${topic}\ndata: ${JSON.stringify(data)}\n\n`

/** A transcript with multi-byte UTF-8 in comments, an unknown field and an ignored topic. */
const unicode = {
  text: [
    ": grüße ✓ 🦄\n\n",
    sse("head", { ...headData(1), graffiti: "Grüße aus München 🦄 — ✓" }),
    sse("block", { slot: "2", note: "日本語" }),
    ": ключ\n\n",
    sse("head", { ...headData(2), graffiti: "😀😀😀" })
  ].join(""),
  expected: {
    heads: [1, 2].map((slot) => ({ slot: String(slot), block: headData(slot).block })),
    chain_reorgs: [],
    optimistic_heads_skipped: 0,
    invalid_events: 0,
    other_events: { block: 1 }
  } satisfies Summary
}

describe("SseDecoder", () => {
  it("finds the shared transcripts", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(9)
  })

  describe.each(fixtures)("$name", ({ bytes, expected }) => {
    it("decodes whole to what its expected.json says", () => {
      expect(summarise(decodeChunks([bytes]))).toEqual(expected)
    })

    it("decodes the same with a chunk boundary at every byte position", () => {
      expect(badCuts(bytes, expected)).toEqual([])
    })

    it("decodes the same byte by byte", () => {
      expect(summarise(decodeChunks(cut(bytes, [1])))).toEqual(expected)
    })

    it.prop(
      "decodes the same in random-size chunks",
      [FastCheck.array(FastCheck.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 40 })],
      ([sizes]) => {
        expect(summarise(decodeChunks(cut(bytes, sizes)))).toEqual(expected)
      },
      { fastCheck: { seed: 4242, numRuns: 60 } }
    )
  })

  it("decodes the poison transcript the same when split in two at every byte position", () => {
    const poison = fixtures.find((fixture) => fixture.name === "poison")!
    expect(badSplits(poison.bytes, poison.expected)).toEqual([])
  })

  it("decodes every transcript one after the other on one decoder, carrying nothing over", () => {
    const decoder = SseDecoder.make(MiB)
    for (const { bytes, expected } of fixtures) {
      const decoded = decoder.feed(bytes)
      expect(decoded.oversized).toBe(false)
      expect(summarise(decoded.events)).toEqual(expected)
    }
  })

  describe("multi-byte UTF-8", () => {
    const bytes = bytesOf(unicode.text)

    it("holds characters of 2, 3 and 4 bytes", () => {
      expect(bytes.length).toBeGreaterThan(unicode.text.length)
      expect(summarise(decodeChunks([bytes]))).toEqual(unicode.expected)
    })

    it("decodes the same when split inside a character, at every byte position", () => {
      expect(badSplits(bytes, unicode.expected)).toEqual([])
      expect(summarise(decodeChunks(cut(bytes, [1])))).toEqual(unicode.expected)
    })

    it("drops a byte order mark at the start, also when split inside it", () => {
      // Kept, the mark would turn the first field name into "\uFEFFevent" and the head into poison.
      const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...bytesOf(sse("head", headData(12)))])
      const expected = { ...unicode.expected, heads: [{ slot: "12", block: headData(12).block }], other_events: {} }
      expect(badSplits(withBom, expected)).toEqual([])
    })

    it("keeps a byte order mark that is not at the start", () => {
      const bom = new Uint8Array([0xef, 0xbb, 0xbf])
      // Kept, the mark makes the data line an unknown field: the head has no data and is not dispatched.
      const chunks = [bytesOf("event: head\n"), bom, bytesOf(`data: ${JSON.stringify(headData(13))}\n\n`)]
      expect(decodeChunks(chunks)).toEqual([])
      expect(decodeChunks([new Uint8Array([...chunks[0]!, ...bom]), chunks[2]!])).toEqual([])
    })

    // ASCII chunks take a shortcut past the UTF-8 decoder: this checks it against the decoder reading the whole stream.
    it.prop(
      "decodes any bytes as the UTF-8 decoder does, whatever the chunks",
      [
        FastCheck.array(
          FastCheck.oneof(
            FastCheck.string({ unit: "grapheme", maxLength: 20 }).map(bytesOf),
            FastCheck.uint8Array({ maxLength: 12 }),
            FastCheck.constantFrom(...[[0xe2, 0x82, 0xac], [0xf0, 0x9f, 0xa6, 0x84], [0xc3], [0xf0, 0x9f], [0xbf]].map((b) => new Uint8Array(b)))
          ),
          { minLength: 1, maxLength: 8 }
        ),
        FastCheck.array(FastCheck.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 5 })
      ],
      ([names, sizes]) => {
        // Each event is named by the bytes (line ends taken out); an unknown name is Invalid, its reason quoting it.
        const bytes = new Uint8Array(names.flatMap((name) => [
          ...bytesOf("event: "),
          ...[...name].filter((byte) => byte !== 0x0a && byte !== 0x0d),
          ...bytesOf("\ndata: {}\n\n")
        ]))
        const expected: Array<BeaconEvent.BeaconEvent> = []
        createParser({ onEvent: (event) => expected.push(BeaconEvent.decode(event)) }).feed(new TextDecoder().decode(bytes))
        expect(expected).toHaveLength(names.length)
        expect(JSON.stringify(decodeChunks(cut(bytes, sizes)))).toEqual(JSON.stringify(expected))
      },
      { fastCheck: { seed: 8080, numRuns: 500 } }
    )
  })

  describe("line ends", () => {
    const lodestar = fixtures.find((fixture) => fixture.name === "lodestar-head")!
    const text = new TextDecoder().decode(lodestar.bytes)

    it("reads a CRLF split between its CR and its LF as one line end", () => {
      const data = `\ndata: ${JSON.stringify(headData(3))}\r\n\r`
      const decoded = decodeChunks([bytesOf("event: head\r"), bytesOf(data), bytesOf("\n")])
      expect(summarise(decoded).heads).toEqual([{ slot: "3", block: headData(3).block }])
      expect(summarise(decoded).invalid_events).toBe(0)
    })

    it("delivers an event that ends with a lone CR with the next bytes: the CR may be half of a CRLF", () => {
      const decoder = SseDecoder.make(MiB)
      const decoded = decoder.feed(bytesOf(`event: head\r\ndata: ${JSON.stringify(headData(4))}\r\n\r`))
      expect(decoded.events).toEqual([])
      // A keep-alive comment (CR-terminated, like the rest of this stream) completes the line end.
      expect(summarise(decoder.feed(bytesOf(":\r")).events).heads).toEqual([{ slot: "4", block: headData(4).block }])
    })

    // A stream with CR line ends goes on after its last event; here, with a keep-alive.
    it("reads CR-only line ends, at every split", () => {
      expect(badCuts(bytesOf(`${text}:\n`.replaceAll("\n", "\r")), lodestar.expected)).toEqual([])
    })

    it("does not let a CR line end early in a chunk swallow the blank lines after it", () => {
      const text = `: hi\r\n${sse("head", headData(1))}${sse("head", headData(2))}`
      expect(summarise(decodeChunks([bytesOf(text)])).heads.map((head) => head.slot)).toEqual(["1", "2"])
    })

    it("reads mixed line ends", () => {
      let i = 0
      const mixed = `${text}:\n`.replaceAll("\n", () => ["\n", "\r\n", "\r"][i++ % 3]!)
      expect(summarise(decodeChunks([bytesOf(mixed)]))).toEqual(lodestar.expected)
    })
  })

  describe("fields that are not ours", () => {
    it("ignores retry:, id: and unknown fields", () => {
      const text = `retry: 10000\n\nretry: 1\nid: 7\nfoo: bar\nevent: head\ndata: ${JSON.stringify(headData(5))}\n\n`
      expect(summarise(decodeChunks([bytesOf(text)])).heads).toEqual([{ slot: "5", block: headData(5).block }])
    })

    it("dispatches nothing for an event without data", () => {
      expect(decodeChunks([bytesOf("event: head\n\nevent: head\nid: 1\n\n")])).toEqual([])
    })

    it("reads an event without a name as poison", () => {
      const decoded = decodeChunks([bytesOf(`data: ${JSON.stringify(headData(6))}\n\n`)])
      expect(summarise(decoded).invalid_events).toBe(1)
    })

    it("keeps a pending event until its blank line arrives", () => {
      const decoder = SseDecoder.make(MiB)
      expect(decoder.feed(bytesOf(`event: head\ndata: ${JSON.stringify(headData(8))}\n`)).events).toEqual([])
      const decoded = decoder.feed(bytesOf("\n"))
      expect(decoded.events.map((event) => event._tag)).toEqual(["Head"])
    })
  })

  describe("oversized events", () => {
    const limit = 1024 // a head event is about 470 characters
    const big = sse("head", { ...headData(9), padding: "x".repeat(2 * limit) })
    const small = sse("head", headData(10))

    it("reports an event over the limit that arrives whole", () => {
      expect(SseDecoder.make(limit).feed(bytesOf(big)).oversized).toBe(true)
    })

    it("keeps the events completed before an oversized one in the same chunk, and nothing after it", () => {
      const decoded = SseDecoder.make(limit).feed(bytesOf(small + big + sse("head", headData(11))))
      expect(decoded.oversized).toBe(true)
      expect(summarise(decoded.events).heads).toEqual([{ slot: "10", block: headData(10).block }])
    })

    it("reports it whatever the chunking, at every split", () => {
      const bytes = bytesOf(big)
      const missed: Array<number> = []
      for (let at = 0; at <= bytes.length; at++) {
        const decoder = SseDecoder.make(limit)
        const results = [decoder.feed(bytes.subarray(0, at)), decoder.feed(bytes.subarray(at))]
        if (!results.some((result) => result.oversized)) missed.push(at)
      }
      expect(missed).toEqual([])
    })

    it("reports it while it is still arriving, before it is complete", () => {
      const decoder = SseDecoder.make(limit)
      const chunks = cut(bytesOf(big).subarray(0, -2), [32])
      const results = chunks.map((chunk) => decoder.feed(chunk))
      expect(results.some((result) => result.oversized)).toBe(true)
    })

    it("resets: the rest of the dropped event is not glued onto what follows", () => {
      const decoder = SseDecoder.make(limit)
      const bytes = bytesOf(big)
      expect(decoder.feed(bytes.subarray(0, 2 * limit)).oversized).toBe(true)
      // Without the reset, this blank line would dispatch the dropped head (as poison).
      expect(decoder.feed(bytesOf("\n\n")).events).toEqual([])
      const next = decoder.feed(bytesOf(small))
      expect(summarise(next.events).heads).toEqual([{ slot: "10", block: headData(10).block }])
    })

    it("does not grow: an endless event is reported again and again, each time within the limit", () => {
      const decoder = SseDecoder.make(1000)
      const chunk = bytesOf("y".repeat(100))
      expect(decoder.feed(bytesOf("event: head\ndata: ")).events).toEqual([])
      let sinceReport = 0
      let reports = 0
      let longestRun = 0
      for (let i = 0; i < 20_000; i++) { // 2 MB
        if (decoder.feed(chunk).oversized) {
          reports++
          sinceReport = 0
        } else {
          longestRun = Math.max(longestRun, ++sinceReport)
        }
      }
      // At most limit / chunk size feeds are retained before the decoder lets go again.
      expect(longestRun).toBeLessThanOrEqual(10)
      expect(reports).toBeGreaterThan(1000)
    })

    it("bounds each event, not the chunk: many small events in one big chunk are fine", () => {
      const many = Array.from({ length: 100 }, (_, slot) => sse("head", headData(slot))).join("")
      expect(many.length).toBeGreaterThan(40 * 1000)
      expect(summarise(decodeChunks([bytesOf(many)], 1000)).heads).toHaveLength(100)
    })

    it("lets the real events through under the default limit of 1 MiB", () => {
      for (const { bytes, expected } of fixtures) expect(summarise(decodeChunks([bytes], MiB))).toEqual(expected)
    })
  })

  describe("garbage", () => {
    const pieces = ["event: head\n", "event:", "data: ", "data: {\"slot\":\"1\"", "\n", "\r", "\r\n", ":", "retry: 5\n", "id: \u0000\n"]
      .map(bytesOf)

    it.prop(
      "never throws on arbitrary bytes in arbitrary chunks",
      [
        FastCheck.array(
          FastCheck.oneof(FastCheck.uint8Array({ maxLength: 80 }), FastCheck.constantFrom(...pieces)),
          { maxLength: 60 }
        ),
        FastCheck.array(FastCheck.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 8 })
      ],
      ([parts, sizes]) => {
        const bytes = new Uint8Array(parts.flatMap((part) => [...part]))
        const decoder = SseDecoder.make(512)
        for (const chunk of cut(bytes, sizes)) {
          for (const event of decoder.feed(chunk).events) expect(["Head", "ChainReorg", "Other", "Invalid"]).toContain(event._tag)
        }
        // Whatever came before, a fresh event after a blank line still gets through.
        const after = decoder.feed(bytesOf(`\n\n${sse("head", headData(11))}`))
        expect(after.oversized || summarise(after.events).heads.some((head) => head.slot === "11")).toBe(true)
      },
      { fastCheck: { seed: 1337, numRuns: 400 } }
    )
  })
})
