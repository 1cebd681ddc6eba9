import { describe, expect, it } from "@effect/vitest"
import { Chunk, ConfigProvider, Deferred, Effect, Either, Fiber, Layer, Stream } from "effect"
import * as CandidateList from "../../src/candidates/CandidateList.js"
import * as MonitorConfig from "../../src/config/MonitorConfig.js"

const initial = ["http://a.example:5052", "http://b.example:5052"]

/** A candidate list starting with `initial`, at most `max` nodes. */
const layer = (max = 4) =>
  CandidateList.layer(initial).pipe(Layer.provide(MonitorConfig.layer({ maxCandidates: max })))

/** Runs `update` and returns its error, checking that the list did not change at all. */
const rejected = (urls: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const list = yield* CandidateList.CandidateList
    const before = yield* list.get
    const error = yield* Effect.flip(list.update(urls))
    expect(yield* list.get).toBe(before)
    return error
  })

describe("CandidateList", () => {
  describe("validation", () => {
    it.effect("rejects an empty list", () =>
      Effect.gen(function*() {
        const error = yield* rejected([])
        expect(error._tag).toBe("InvalidCandidateList")
        expect(error.entries).toEqual([{ index: -1, entry: "", reason: "the list is empty" }])
      }).pipe(Effect.provide(layer())))

    it.effect("rejects schemes other than http and https", () =>
      Effect.gen(function*() {
        const error = yield* rejected(["http://a.example", "ftp://b.example", "ws://c.example"])
        expect(error.entries.map((e) => [e.index, e.entry])).toEqual([[1, "ftp://b.example"], [2, "ws://c.example"]])
        expect(error.entries[0]!.reason).toContain("http or https")
      }).pipe(Effect.provide(layer())))

    it.effect("rejects what is not an absolute URL, and empty entries", () =>
      Effect.gen(function*() {
        const error = yield* rejected(["not a url", "http://ok.example", "  ", "/relative"])
        expect(error.entries.map((e) => e.index)).toEqual([0, 2, 3])
        expect(error.entries[0]!.reason).toContain("not an absolute URL")
        expect(error.entries[1]!.reason).toBe("empty")
        expect(error.entries[2]!.reason).toContain("not an absolute URL")
        expect(error.message).toContain("entry 0 (not a url): not an absolute URL")
      }).pipe(Effect.provide(layer())))

    it.effect("rejects two spellings of one node", () =>
      Effect.gen(function*() {
        const error = yield* rejected(["http://A.example:80/", "https://b.example", "http://a.example"])
        expect(error.entries).toEqual([{ index: 2, entry: "http://a.example", reason: "the same node as entry 0" }])
      }).pipe(Effect.provide(layer())))

    it.effect("rejects more nodes than the maximum", () =>
      Effect.gen(function*() {
        const error = yield* rejected(["http://a", "http://b", "http://c", "http://d", "http://e"])
        expect(error.entries).toHaveLength(1)
        expect(error.entries[0]!.index).toBe(-1)
        expect(error.entries[0]!.reason).toBe("5 nodes is more than the maximum of 4")
      }).pipe(Effect.provide(layer())))

    it.effect("accepts exactly the maximum", () =>
      Effect.gen(function*() {
        const list = yield* CandidateList.CandidateList
        const accepted = yield* list.update(["http://a", "http://b", "http://c", "http://d"])
        expect(accepted.nodes.map((n) => n.display)).toEqual(["http://a", "http://b", "http://c", "http://d"])
        expect(accepted.version).toBe(1)
      }).pipe(Effect.provide(layer())))

    it.effect("never shows a secret of a wrong entry", () =>
      Effect.gen(function*() {
        const error = yield* rejected([
          "http://user:hunter2@a.example?apikey=s3cret",
          "ftp://user:hunter2@b.example?apikey=s3cret",
          "http://user:hunter2@a.example/?apikey=s3cret"
        ])
        expect(error.entries.map((e) => e.index)).toEqual([1, 2])
        for (const text of [error.message, JSON.stringify(error.entries)]) {
          expect(text).not.toContain("hunter2")
          expect(text).not.toContain("s3cret")
        }
      }).pipe(Effect.provide(layer())))

    it("validate reports every wrong entry without a service", () => {
      const result = CandidateList.validate(["http://a", "mailto:x@y", "http://a/"], 64)
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) expect(result.left.entries.map((e) => e.index)).toEqual([1, 2])
    })

    it.effect("a layer with a bad initial list fails to build", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Layer.build(
          CandidateList.layer(["http://a", "http://a"]).pipe(Layer.provide(MonitorConfig.layer()))
        ))
        expect(error.entries[0]!.index).toBe(1)
      }).pipe(Effect.scoped))
  })

  describe("from configuration", () => {
    const fromEnv = (env: Record<string, string>) =>
      Effect.flatMap(CandidateList.CandidateList, (list) => list.get).pipe(
        Effect.provide(CandidateList.layerConfig().pipe(Layer.provide(MonitorConfig.layer()))),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
      )

    it.effect("reads the comma-separated BEACON_NODES", () =>
      Effect.gen(function*() {
        const list = yield* fromEnv({ BEACON_NODES: "http://a:5052,HTTPS://B/" })
        expect(list.nodes.map((node) => node.display)).toEqual(["http://a:5052", "https://b"])
      }))

    it.effect("fails on a bad entry or a missing variable", () =>
      Effect.gen(function*() {
        const bad = yield* Effect.flip(fromEnv({ BEACON_NODES: "http://a,ftp://b" }))
        expect(bad._tag).toBe("InvalidCandidateList")
        const missing = yield* Effect.flip(fromEnv({}))
        expect(missing._tag).toBe("ConfigError")
        expect(String(missing)).toContain("BEACON_NODES")
      }))
  })

  describe("updates", () => {
    it.effect("an accepted update replaces the list, normalised, and numbers it", () =>
      Effect.gen(function*() {
        const list = yield* CandidateList.CandidateList
        const accepted = yield* list.update(["http://C.example:80/", "http://a.example:5052/"])
        expect(accepted.nodes.map((n) => n.id)).toEqual(["http://c.example", "http://a.example:5052"])
        expect([...accepted.positions.values()]).toEqual([0, 1])
        expect(yield* list.get).toBe(accepted)
      }).pipe(Effect.provide(layer())))

    it.effect("concurrent updates are serialised: versions 1..n, the final list is the last accepted", () =>
      Effect.gen(function*() {
        const list = yield* CandidateList.CandidateList
        const proposals = Array.from({ length: 50 }, (_, i) =>
          // Every fifth proposal is invalid (a duplicate) and must change nothing.
          i % 5 === 4 ? [`http://n${i}`, `http://N${i}:80`] : [`http://n${i}`, `http://m${i}`])
        const results = yield* Effect.forEach(proposals, (urls) => Effect.either(list.update(urls)), {
          concurrency: "unbounded"
        })
        const accepted = results.flatMap((r) => Either.isRight(r) ? [r.right] : [])
        expect(accepted).toHaveLength(40)
        expect(accepted.map((c) => c.version).sort((a, b) => a - b)).toEqual(
          Array.from({ length: 40 }, (_, i) => i + 1)
        )
        const last = accepted.reduce((a, b) => (b.version > a.version ? b : a))
        expect(yield* list.get).toBe(last)
      }).pipe(Effect.provide(layer())))

    it.effect("changes emits the current list, then every accepted list in order", () =>
      Effect.gen(function*() {
        const list = yield* CandidateList.CandidateList
        const subscribed = yield* Deferred.make<void>()
        const updates = 200
        const seen = yield* list.changes.pipe(
          Stream.tap(() => Deferred.succeed(subscribed, undefined)),
          Stream.take(updates / 2 + 1),
          Stream.runCollect,
          Effect.fork
        )
        yield* Deferred.await(subscribed)
        const accepted: Array<ReadonlyArray<string>> = []
        for (let i = 0; i < updates; i++) {
          const urls = i % 2 === 0 ? [`http://n${i}`] : ["http://x", "ftp://x"]
          const result = yield* Effect.either(list.update(urls))
          if (Either.isRight(result)) accepted.push(result.right.nodes.map((n) => n.display))
        }
        const emitted = Chunk.toArray(yield* Fiber.join(seen))
        expect(emitted.map((c) => c.version)).toEqual(Array.from({ length: updates / 2 + 1 }, (_, i) => i))
        expect(emitted[0]!.nodes.map((n) => n.display)).toEqual(initial)
        expect(emitted.slice(1).map((c) => c.nodes.map((n) => n.display))).toEqual(accepted)
      }).pipe(Effect.provide(layer())))
  })
})
