/**
 * The cache's `Ref`: every `Ref` function works on it, and what a socket's
 * callback writes synchronously is what the effects read, and back.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { SyncRef } from "../../src/internal/SyncRef.js"

describe("SyncRef", () => {
  it.effect("is a Ref to every Ref function, and shares its value with the synchronous forms", () =>
    Effect.gen(function*() {
      const ref = new SyncRef(1)
      expect(yield* Ref.get(ref)).toBe(1)
      expect(yield* ref).toBe(1)
      yield* Ref.update(ref, (n) => n + 1)
      expect(ref.unsafeGet()).toBe(2)
      expect(ref.unsafeModify((n) => [n * 10, n + 1] as const)).toBe(20)
      expect(yield* Ref.get(ref)).toBe(3)
      expect(yield* Ref.modify(ref, (n) => [`was ${n}`, 0] as const)).toBe("was 3")
      expect(yield* Ref.getAndSet(ref, 7)).toBe(0)
      expect(ref.unsafeGet()).toBe(7)
    }))
})
