import { describe, expect, it } from "@effect/vitest"
import { Either, Equal, FastCheck, Hash, Schema } from "effect"
import { createParser, type EventSourceMessage } from "eventsource-parser"
import * as BeaconEvent from "../../src/events/BeaconEvent.js"
import { decodeHeadFast } from "../../src/internal/decodeHeadFast.js"
import { headData, root } from "../support/chain.js"
import { fixtures, summarise } from "../support/sseFixtures.js"

const event = (name: string, data: unknown): EventSourceMessage => ({
  event: name,
  data: typeof data === "string" ? data : JSON.stringify(data)
})

const decodeHead = (data: unknown) => BeaconEvent.decode(event("head", data))

const reasonOf = (decoded: BeaconEvent.BeaconEvent): string => {
  if (decoded._tag !== "Invalid") throw new Error(`expected Invalid, got ${decoded._tag}`)
  return decoded.reason
}

const reorgData = (slot: number) => ({
  slot: String(slot),
  depth: "2",
  old_head_block: root(`old-${slot}`),
  new_head_block: root(`new-${slot}`),
  old_head_state: root(`old-state-${slot}`),
  new_head_state: root(`new-state-${slot}`),
  epoch: String(Math.floor(slot / 32)),
  execution_optimistic: false
})

describe("BeaconEvent", () => {
  describe("the shared transcripts, parsed whole by eventsource-parser", () => {
    it("covers every transcript in ../shared/fixtures/sse", () => {
      expect(fixtures.map((fixture) => fixture.name)).toEqual(expect.arrayContaining([
        "dialect-crlf",
        "dialect-keepalive",
        "dialect-multiline-data",
        "dialect-nospace",
        "lodestar-head",
        "lodestar-head-block",
        "lodestar-reorg",
        "optimistic",
        "poison"
      ]))
    })

    it.each(fixtures)("$name decodes to what $name.expected.json says", ({ bytes, expected }) => {
      const decoded: Array<BeaconEvent.BeaconEvent> = []
      const parser = createParser({ onEvent: (parsed) => decoded.push(BeaconEvent.decode(parsed)) })
      parser.feed(new TextDecoder().decode(bytes))
      expect(summarise(decoded)).toEqual(expected)
    })
  })

  describe("head", () => {
    it("decodes slots from decimal strings and keeps the roots", () => {
      const data = headData(64)
      const decoded = decodeHead(data)
      expect(decoded).toEqual(BeaconEvent.BeaconEvent.Head({
        data: {
          slot: 64,
          block: data.block as BeaconEvent.Root,
          state: data.state as BeaconEvent.Root,
          epoch_transition: true,
          previous_duty_dependent_root: data.previous_duty_dependent_root as BeaconEvent.Root,
          current_duty_dependent_root: data.current_duty_dependent_root as BeaconEvent.Root,
          execution_optimistic: false
        }
      }))
    })

    it("is what the BeaconEvent.Head constructor builds: the same fields, Equal and Hash", () => {
      const decoded = decodeHead(headData(65))
      if (decoded._tag !== "Head") throw new Error(`expected Head, got ${decoded._tag}`)
      const built = BeaconEvent.BeaconEvent.Head({ data: decoded.data })
      expect(Object.keys(decoded)).toEqual(Object.keys(built))
      expect(Equal.equals(decoded, built)).toBe(true)
      expect(Equal.equals(built, decoded)).toBe(true)
      expect(Hash.hash(decoded)).toBe(Hash.hash(built))
      expect(BeaconEvent.BeaconEvent.$is("Head")(decoded)).toBe(true)
    })

    it("ignores unknown fields", () => {
      const decoded = decodeHead({ ...headData(7), graffiti: "hello", nested: { a: [1, 2] }, slot_extra: "x" })
      expect(decoded._tag).toBe("Head")
      expect(decoded._tag === "Head" && Object.keys(decoded.data)).not.toContain("graffiti")
    })

    it("accepts the minimal head older servers send, with defaults", () => {
      const decoded = decodeHead({ slot: "5", block: root("b"), state: root("s") })
      expect(decoded).toEqual(BeaconEvent.BeaconEvent.Head({
        data: {
          slot: 5,
          block: root("b") as BeaconEvent.Root,
          state: root("s") as BeaconEvent.Root,
          epoch_transition: false,
          execution_optimistic: false
        }
      }))
    })

    it("decodes an optimistic head as a Head flagged execution_optimistic (the monitor skips it)", () => {
      const decoded = decodeHead(headData(9, { optimistic: true }))
      expect(decoded._tag === "Head" && decoded.data.execution_optimistic).toBe(true)
    })

    it("accepts upper-case hex in roots", () => {
      expect(decodeHead({ ...headData(1), block: `0x${"AB".repeat(32)}` })._tag).toBe("Head")
    })

    it("accepts slot 0 and the largest slot it can hold exactly", () => {
      expect(decodeHead(headData(0))._tag).toBe("Head")
      const decoded = decodeHead({ ...headData(1), slot: "999999999999999" })
      expect(decoded._tag === "Head" && decoded.data.slot).toBe(999_999_999_999_999)
    })

    it.each([
      ["a number", 12],
      ["empty", ""],
      ["negative", "-1"],
      ["a leading zero", "012"],
      ["a fraction", "1.5"],
      ["an exponent", "1e3"],
      ["spaces", " 12"],
      ["a word", "twelve"],
      ["hex", "0x10"],
      ["more digits than a number holds exactly", "9007199254740993"]
    ])("rejects a slot that is %s", (_, slot) => {
      expect(reasonOf(decodeHead({ ...headData(12), slot }))).toMatch(/slot|decimal|string/)
    })

    it.each([
      ["too short", `0x${"ab".repeat(31)}`],
      ["too long", `0x${"ab".repeat(33)}`],
      ["without 0x", "ab".repeat(32)],
      ["with 0X", `0X${"ab".repeat(32)}`],
      ["not hex", `0x${"zz".repeat(32)}`],
      ["a number", 1]
    ])("rejects a block root that is %s", (_, block) => {
      expect(reasonOf(decodeHead({ ...headData(12), block }))).toContain("block")
    })

    it.each([
      ["slot", { block: root("b"), state: root("s") }],
      ["block", { slot: "1", state: root("s") }],
      ["state", { slot: "1", block: root("b") }]
    ])("rejects a head without %s", (field, data) => {
      expect(reasonOf(decodeHead(data))).toContain(field)
    })

    it("rejects a non-boolean execution_optimistic rather than guessing", () => {
      expect(reasonOf(decodeHead({ ...headData(3), execution_optimistic: "true" }))).toContain("execution_optimistic")
    })

    it("round-trips through the schema", () => {
      const data = headData(33)
      const decoded = Schema.decodeUnknownSync(BeaconEvent.HeadEventData)(data)
      expect(Schema.encodeSync(BeaconEvent.HeadEventData)(decoded)).toEqual(data)
    })
  })

  describe("the head fast path", () => {
    const field = FastCheck.oneof(
      FastCheck.constant(undefined),
      FastCheck.constantFrom(root("a"), root("b").toUpperCase().replace("0X", "0x"), "0x00", "", "12", "0", "007", "1e3"),
      FastCheck.string({ maxLength: 70 }),
      FastCheck.boolean(),
      FastCheck.integer(),
      FastCheck.constant(null)
    )
    const keys = ["slot", "block", "state", "epoch_transition", "previous_duty_dependent_root", "current_duty_dependent_root", "execution_optimistic", "extra"] as const

    it.prop(
      "agrees with the HeadEventData schema wherever it answers",
      [FastCheck.tuple(...keys.map(() => field)), FastCheck.boolean()],
      ([values, valid]) => {
        const json: Record<string, unknown> = valid ? { ...headData(9) } : {}
        keys.forEach((key, i) => {
          if (values[i] !== undefined && (!valid || i % 3 === 0)) json[key] = values[i]
        })
        const fast = decodeHeadFast(json)
        const schema = Schema.decodeUnknownEither(BeaconEvent.HeadEventData)(json)
        if (fast !== undefined) expect(Either.getOrUndefined(schema)).toEqual(fast)
      },
      { fastCheck: { seed: 7, numRuns: 2000 } }
    )

    it("checks the dependent roots again when they are not those of the last head that passed", () => {
      expect(decodeHeadFast(headData(70))).toBeDefined()
      const bad = `0x${"zz".repeat(32)}`
      // The previous head's dependent roots passed: a new one beside them is still checked.
      expect(decodeHeadFast({ ...headData(71), current_duty_dependent_root: bad })).toBeUndefined()
      expect(decodeHeadFast({ ...headData(71), previous_duty_dependent_root: bad })).toBeUndefined()
      expect(reasonOf(decodeHead({ ...headData(71), current_duty_dependent_root: bad }))).toContain("current_duty_dependent_root")
      expect(decodeHeadFast({ ...headData(72), previous_duty_dependent_root: undefined })).toBeDefined()
      expect(decodeHeadFast({ ...headData(72), previous_duty_dependent_root: 1 })).toBeUndefined()
      expect(decodeHeadFast(headData(73))?.current_duty_dependent_root).toBe(headData(73).current_duty_dependent_root)
    })

    it("answers for every head of the real transcripts (the schema is the fallback, not the rule)", () => {
      for (const { bytes } of fixtures) {
        const text = new TextDecoder().decode(bytes)
        for (const match of text.matchAll(/event: ?head\r?\ndata: ?(\{.*\})/g)) {
          const json: unknown = JSON.parse(match[1]!)
          const schema = Schema.decodeUnknownEither(BeaconEvent.HeadEventData)(json)
          if (schema._tag === "Right") expect(decodeHeadFast(json)).toEqual(schema.right)
        }
      }
    })
  })

  describe("chain_reorg", () => {
    it("decodes a reorg", () => {
      const data = reorgData(40)
      const decoded = BeaconEvent.decode(event("chain_reorg", data))
      expect(decoded._tag).toBe("ChainReorg")
      if (decoded._tag !== "ChainReorg") return
      expect(decoded.data).toMatchObject({
        slot: 40,
        depth: 2,
        epoch: 1,
        old_head_block: data.old_head_block,
        new_head_block: data.new_head_block
      })
    })

    it("accepts a reorg without the optional fields", () => {
      const { epoch: _epoch, new_head_state: _new, old_head_state: _old, ...minimal } = reorgData(41)
      expect(BeaconEvent.decode(event("chain_reorg", minimal))._tag).toBe("ChainReorg")
    })

    it.each(["slot", "depth", "old_head_block", "new_head_block"] as const)("rejects a reorg without %s", (field) => {
      const { [field]: _dropped, ...rest } = reorgData(42)
      const decoded = BeaconEvent.decode(event("chain_reorg", rest))
      expect(decoded).toMatchObject({ _tag: "Invalid", topic: "chain_reorg" })
      expect(reasonOf(decoded)).toContain(field)
    })
  })

  describe("other topics and poison", () => {
    it.each([...BeaconEvent.otherTopics])("counts %s as Other without reading its data", (topic) => {
      expect(BeaconEvent.decode(event(topic, "not even JSON"))).toEqual(BeaconEvent.BeaconEvent.Other({ topic }))
    })

    it.each([
      ["truncated", "{\"slot\":\"12\",\"block\":"],
      ["empty", ""],
      ["not JSON", "head"],
      ["two objects", "{}{}"]
    ])("turns %s JSON into Invalid with a reason", (_, data) => {
      const decoded = BeaconEvent.decode(event("head", data))
      expect(decoded).toMatchObject({ _tag: "Invalid", topic: "head" })
      expect(reasonOf(decoded)).toMatch(/^bad JSON: /)
    })

    it.each([["null"], ["[]"], ["\"head\""], ["12"], ["true"]])("turns the JSON value %s into Invalid", (data) => {
      expect(reasonOf(BeaconEvent.decode(event("head", data))).length).toBeGreaterThan(0)
      expect(BeaconEvent.decode(event("chain_reorg", data))._tag).toBe("Invalid")
    })

    it("turns an unknown event name into Invalid, naming it (cut short)", () => {
      expect(BeaconEvent.decode(event("heads", headData(1)))).toEqual(
        BeaconEvent.BeaconEvent.Invalid({ topic: "heads", reason: "unknown event name \"heads\"" })
      )
      // An event without an `event:` line is a "message", which no beacon node sends.
      expect(BeaconEvent.decode(event("message", headData(1)))._tag).toBe("Invalid")
      expect(BeaconEvent.decode(event("HEAD", headData(1)))._tag).toBe("Invalid")
      const long = BeaconEvent.decode(event("x".repeat(1000), "{}"))
      expect(reasonOf(long).length).toBeLessThan(100)
    })

    it.prop(
      "never throws, whatever the name and data",
      [
        FastCheck.oneof(FastCheck.constantFrom("head", "chain_reorg", "block", "message", ""), FastCheck.string()),
        FastCheck.oneof(
          FastCheck.string(),
          FastCheck.json(),
          FastCheck.record({
            slot: FastCheck.oneof(FastCheck.string(), FastCheck.nat().map(String), FastCheck.double()),
            block: FastCheck.oneof(FastCheck.string(), FastCheck.constant(root("b"))),
            state: FastCheck.oneof(FastCheck.string(), FastCheck.constant(root("s"))),
            execution_optimistic: FastCheck.anything()
          }).map((record) => JSON.stringify(record))
        )
      ],
      ([name, data]) => {
        const decoded = BeaconEvent.decode(event(name, data))
        expect(["Head", "ChainReorg", "Other", "Invalid"]).toContain(decoded._tag)
        if (decoded._tag === "Invalid") expect(decoded.reason.length).toBeGreaterThan(0)
      },
      { fastCheck: { seed: 20240601, numRuns: 500 } }
    )
  })
})
