/**
 * The one-pass decoder of a head's data: wherever it answers, it answers what
 * `JSON.parse` and the `HeadEventData` schema make of the same text; it answers
 * for every head the servers send; and what it keeps holds no chunk alive.
 */
import { describe, expect, it, vi } from "@effect/vitest"
import { Either, FastCheck, Schema } from "effect"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import * as BeaconEvent from "../../src/events/BeaconEvent.js"
import { scanHead } from "../../src/internal/scanHead.js"
import { headData, root } from "../support/chain.js"
import { fixtures } from "../support/sseFixtures.js"

const decodeSchema = Schema.decodeUnknownEither(BeaconEvent.HeadEventData)

/** What `JSON.parse` and the schema make of the text: the head, or `undefined` if either rejects it. */
const reference = (text: string): BeaconEvent.HeadEventData | undefined => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return undefined
  }
  return Either.getOrUndefined(decodeSchema(json))
}

/** Whether the scanner, where it answers, answers the reference's head (same keys, same values). */
const agrees = (text: string): boolean => {
  const scanned = scanHead(text)
  if (scanned === undefined) return true
  expect(scanned).toStrictEqual(reference(text))
  return true
}

const keys = [
  "slot",
  "block",
  "state",
  "epoch_transition",
  "previous_duty_dependent_root",
  "current_duty_dependent_root",
  "execution_optimistic"
] as const

// A few roots used again and again, so that the scanner's memory of the last roots is hit, and missed by a byte.
const pool = [root("a"), root("b"), root("c").toUpperCase().replace("0X", "0x")]
const hexDigits = "0123456789abcdefABCDEF"
const rootArb = FastCheck.oneof(
  FastCheck.constantFrom(...pool),
  FastCheck.array(FastCheck.integer({ min: 0, max: hexDigits.length - 1 }), { minLength: 64, maxLength: 64 })
    .map((digits) => `0x${digits.map((d) => hexDigits[d]).join("")}`)
)
const slotArb = FastCheck.oneof(
  FastCheck.constantFrom("0", "1", "999999999999999"),
  FastCheck.bigInt({ min: 1n, max: 999_999_999_999_999n }).map(String),
  FastCheck.nat(100_000).map(String)
)
const headArb = FastCheck.record(
  {
    slot: slotArb,
    block: rootArb,
    state: rootArb,
    epoch_transition: FastCheck.boolean(),
    previous_duty_dependent_root: rootArb,
    current_duty_dependent_root: rootArb,
    execution_optimistic: FastCheck.boolean()
  },
  { requiredKeys: ["slot", "block", "state"] }
)
/** JSON's white space (and none, most often) between tokens. */
const spacesArb = FastCheck.array(FastCheck.constantFrom("", "", "", "", " ", "\n", "\t", "\r\n", "  "), { minLength: 1, maxLength: 40 })

/** The entries as a JSON object, with the given white space between its tokens in turn. */
const write = (entries: ReadonlyArray<readonly [string, unknown]>, spaces: ReadonlyArray<string>): string => {
  let turn = 0
  const space = () => spaces[turn++ % spaces.length]!
  const members = entries.map(([key, value]) => `${JSON.stringify(key)}${space()}:${space()}${JSON.stringify(value)}`)
  return `${space()}{${space()}${members.join(`${space()},${space()}`)}${space()}}${space()}`
}

/** A head in any key order, with or without its optional keys, with or without white space. */
const textArb = FastCheck.tuple(
  headArb.chain((head) => {
    const entries = Object.entries(head)
    return FastCheck.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length })
  }),
  FastCheck.oneof(FastCheck.constant([""]), spacesArb)
).map(([entries, spaces]) => write(entries, spaces))

const charArb = FastCheck.oneof(
  FastCheck.constantFrom("\"", "\\", "0", "9", "a", "F", "g", "x", "X", " ", "\n", "\t", "\u000b", "\f", "\u00a0", ",", ":", "{", "}", "[", "\u0000", "é", "\u0122", "\u2028", "\ud800", "e", "t", "n", "l", "-", "."),
  FastCheck.string({ unit: "binary", minLength: 1, maxLength: 1 })
)
const at = (position: number, text: string) => position % (text.length + 1)
const endOfObject = /\}\s*$/

/** One change to a valid head's text: most make it invalid, some keep it valid in a form the scanner leaves to the parser. */
const mutationArb: FastCheck.Arbitrary<(text: string) => string> = FastCheck.oneof(
  FastCheck.tuple(FastCheck.nat(), charArb).map(([p, c]) => (text: string) => text.slice(0, at(p, text)) + c + text.slice(at(p, text) + 1)),
  FastCheck.nat().map((p) => (text: string) => text.slice(0, at(p, text)) + text.slice(at(p, text) + 1)),
  FastCheck.tuple(FastCheck.nat(), charArb).map(([p, c]) => (text: string) => text.slice(0, at(p, text)) + c + text.slice(at(p, text))),
  FastCheck.nat().map((p) => (text: string) => text.slice(0, at(p, text))),
  FastCheck.constantFrom<(text: string) => string>(
    (text) => text.replace("\"0x", "\"\\u0030x"),
    (text) => text.replace("\"slot\"", "\"\\u0073lot\""),
    (text) => text.replace("\"block\"", "\"bl\\u006fck\""),
    (text) => text.replace(/"0x([0-9a-fA-F])/, "\"0x\\u004$1"),
    (text) => text.replace("\"0x", "\"0X"),
    (text) => text.replace(/"slot"(\s*):(\s*)"(\d+)"/, "\"slot\"$1:$2$3"),
    (text) => text.replace(/:(\s*)(true|false)/, ":$1null"),
    (text) => text.replace(/:(\s*)(true|false)/, ":$1\"$2\""),
    (text) => text.replace(/:(\s*)(true|false)/, ":$11"),
    (text) => text.replace(endOfObject, ",\"extra\":\"x\"}"),
    (text) => text.replace(endOfObject, ",\"extra\":{\"a\":[1,null]}}"),
    (text) => text.replace(endOfObject, ",\"slot\":\"7\"}"),
    (text) => text.replace(endOfObject, `,"block":"${pool[0]}"}`),
    (text) => text.replace(endOfObject, ",\"execution_optimistic\":true}"),
    (text) => text.replace(/"(previous|current)_duty_dependent_root"(\s*):(\s*)"0x[0-9a-fA-F]*"/, "\"$1_duty_dependent_root\"$2:$3null"),
    (text) => `[${text}]`,
    (text) => `{"data":${text}}`,
    (text) => `${text}{}`,
    (text) => `\ufeff${text}`,
    (text) => text.replace("{", "{\u00a0"),
    (text) => text.replace(/"slot"(\s*):(\s*)"/, "\"slot\"$1:$2\"0"),
    (text) => text.replace(/"slot"(\s*):(\s*)"\d*/, "\"slot\"$1:$2\"1234567890123456"),
    (text) => text.replace(/"slot"(\s*):(\s*)"\d*/, "\"slot\"$1:$2\"-1"),
    (text) => text.replace(/"slot"(\s*):(\s*)"\d*/, "\"slot\"$1:$2\"1e3")
  )
)

describe("scanHead", () => {
  it.prop(
    "answers for a valid head in any key order, with or without optional keys and white space, what JSON.parse and the schema make of it",
    [textArb],
    ([text]) => {
      const expected = reference(text)
      expect(expected).toBeDefined()
      expect(scanHead(text)).toStrictEqual(expected)
    },
    { fastCheck: { seed: 1212, numRuns: 3000 } }
  )

  it("answers for every order of the seven keys", () => {
    const head = headData(31)
    const orders = (rest: ReadonlyArray<string>): Array<Array<string>> =>
      rest.length === 0 ? [[]] : rest.flatMap((key) => orders(rest.filter((k) => k !== key)).map((order) => [key, ...order]))
    const all = orders(keys)
    expect(all).toHaveLength(5040)
    for (const order of all) {
      const text = write(order.map((key) => [key, head[key as keyof typeof head]] as const), [""])
      expect(scanHead(text)).toStrictEqual(reference(text))
    }
  })

  it.prop(
    "agrees with JSON.parse and the schema wherever it answers, on heads changed anywhere",
    [textArb, FastCheck.array(mutationArb, { minLength: 1, maxLength: 3 })],
    ([text, mutations]) => {
      expect(agrees(mutations.reduce((changed, mutate) => mutate(changed), text))).toBe(true)
    },
    { fastCheck: { seed: 4711, numRuns: 20_000 } }
  )

  it.each([
    ["an escape in a root", (text: string) => text.replace("\"0x", "\"\\u0030x")],
    ["an escape in a key", (text: string) => text.replace("\"slot\"", "\"\\u0073lot\"")],
    ["a key twice (JSON.parse keeps the last)", (text: string) => text.replace(endOfObject, ",\"slot\":\"7\"}")],
    ["an unknown key (the schema ignores it)", (text: string) => text.replace(endOfObject, ",\"extra\":\"x\"}")],
    ["white space outside JSON's (the parser decides)", (text: string) => text.replace("{", "{\u00a0")],
    ["a text longer than a head's can be", (text: string) => `${text}${" ".repeat(4096)}`]
  ])("leaves %s to JSON.parse and the schema", (_, change) => {
    const text = change(JSON.stringify(headData(40)))
    expect(scanHead(text)).toBeUndefined()
    // The decoder still reads the head the parser and the schema find in it.
    const decoded = BeaconEvent.decode({ event: "head", data: text, id: undefined })
    const expected = reference(text)
    expect(decoded._tag === "Head" ? decoded.data : undefined).toStrictEqual(expected)
  })

  it("is not completed by the bytes a longer text left: a text cut short after a whole one", () => {
    const text = JSON.stringify(headData(41))
    expect(scanHead(text)).toBeDefined()
    for (let end = 0; end < text.length; end++) expect(scanHead(text.slice(0, end))).toBeUndefined()
  })

  it("checks a root again when it differs from the last one by a byte", () => {
    const text = JSON.stringify(headData(42))
    const known = scanHead(text)!
    expect(scanHead(text)!.current_duty_dependent_root).toBe(known.current_duty_dependent_root)
    const current = known.current_duty_dependent_root!
    for (const bad of ["g", "\"", " ", "X"]) {
      const changed = text.replace(current, `${current.slice(0, 40)}${bad}${current.slice(41)}`)
      expect(scanHead(changed)).toBeUndefined()
    }
    // At an epoch's turn the current root becomes the previous one, and is still known.
    const next = { ...headData(43), previous_duty_dependent_root: current, current_duty_dependent_root: root("next") }
    expect(scanHead(JSON.stringify(next))).toStrictEqual(reference(JSON.stringify(next)))
  })

  it.each(["block", "current_duty_dependent_root"] as const)(
    "checks every character at every digit of a root (%s): it answers if and only if it is a hex digit",
    (key) => {
      const head = headData(44)
      for (let digit = 0; digit < 64; digit++) {
        for (let c = 0; c < 256; c++) {
          const changed = `${head[key].slice(0, 2 + digit)}${String.fromCharCode(c)}${head[key].slice(3 + digit)}`
          const text = JSON.stringify({ ...head, [key]: changed })
          const expected = reference(text)
          expect(expected !== undefined).toBe(/[0-9a-fA-F]/.test(String.fromCharCode(c)))
          expect(scanHead(text)).toStrictEqual(expected)
        }
      }
    }
  )

  it("takes no root for known before one is read: digits of zero bytes are none", async () => {
    vi.resetModules()
    const fresh = await import("../../src/internal/scanHead.js")
    const zeros = `0x${"\u0000".repeat(64)}`
    const text = JSON.stringify({ ...headData(45), block: zeros, previous_duty_dependent_root: zeros }).replaceAll("\\u0000", "\u0000")
    expect(text).toContain("\u0000")
    expect(fresh.scanHead(text)).toBeUndefined()
    expect(fresh.scanHead(JSON.stringify(headData(45)))).toStrictEqual(reference(JSON.stringify(headData(45))))
  })

  it("answers for every head of the real transcripts that the schema accepts", () => {
    let answered = 0
    for (const { bytes } of fixtures) {
      const text = new TextDecoder().decode(bytes)
      // One data line, or several joined with a line feed (as the SSE standard joins them).
      for (const match of text.matchAll(/event: ?head\r?\n((?:data: ?.*\r?\n)+)/g)) {
        const data = match[1]!.split(/\r?\n/).filter((line) => line !== "").map((line) => line.replace(/^data: ?/, "")).join("\n")
        const expected = reference(data)
        expect(scanHead(data)).toStrictEqual(expected)
        if (expected !== undefined) answered++
      }
    }
    expect(answered).toBeGreaterThan(20)
  })

  it("keeps no chunk alive: a root kept is a string of its own, not a slice of the chunk it came in", () => {
    setFlagsFromString("--expose-gc")
    const gc = runInNewContext("gc") as () => void
    const heads = 400
    /** Bytes still held per head after a collection, when `keep` is kept of each head's data in its own 16-KiB chunk. */
    const retained = (keep: (data: string) => unknown): number => {
      // Warmed up first: what compiling it allocates is not counted.
      for (let i = 0; i < 50; i++) keep(JSON.stringify(headData(i)))
      gc()
      const before = process.memoryUsage().heapUsed
      const kept: Array<unknown> = []
      for (let i = 0; i < heads; i++) {
        const head = JSON.stringify(headData(100 + i))
        const chunk = `${" ".repeat(16 * 1024)}${head}\n`
        kept.push(keep(chunk.slice(16 * 1024, -1)))
      }
      gc()
      const held = (process.memoryUsage().heapUsed - before) / heads
      expect(kept).toHaveLength(heads)
      return held
    }
    // A slice of the data keeps its chunk: the measure can tell.
    expect(retained((data) => data.slice(10, 76))).toBeGreaterThan(12 * 1024)
    expect(retained((data) => scanHead(data))).toBeLessThan(2 * 1024)
  })
})
