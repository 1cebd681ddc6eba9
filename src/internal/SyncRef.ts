/**
 * A `Ref` whose value a callback outside any fiber (a socket's `data`
 * handler) can also read and update synchronously, as `Mailbox.unsafeOffer`
 * or `Deferred.unsafeDone` do for theirs. Running an effect from such a
 * callback costs a fiber run each time; this costs a function call.
 *
 * It is a `Ref` in full: every `Ref` function works on it. Internal: not part
 * of the package's entries.
 *
 * @internal
 */
import { Effect, Effectable, Readable, Ref } from "effect"

/** @internal */
export class SyncRef<in out A> extends Effectable.Class<A> implements Ref.Ref<A> {
  readonly [Ref.RefTypeId] = { _A: (a: A) => a }
  readonly [Readable.TypeId]: Readable.TypeId = Readable.TypeId
  readonly get: Effect.Effect<A> = Effect.sync(() => this.value)

  constructor(private value: A) {
    super()
  }

  commit(): Effect.Effect<A> {
    return this.get
  }

  modify<B>(f: (a: A) => readonly [B, A]): Effect.Effect<B> {
    return Effect.sync(() => this.unsafeModify(f))
  }

  unsafeGet(): A {
    return this.value
  }

  unsafeSet(a: A): void {
    this.value = a
  }

  unsafeModify<B>(f: (a: A) => readonly [B, A]): B {
    const [b, a] = f(this.value)
    this.value = a
    return b
  }
}
