/**
 * One kind of event published to every subscriber, each reading its own
 * sliding buffer: a subscriber that falls behind loses its oldest events and
 * never slows the publisher.
 *
 * @since 0.1.0
 * @internal
 */
import { Effect, Mailbox, type Scope, type Stream } from "effect"

/** @internal */
export interface Broadcast<A> {
  readonly publish: (event: A) => Effect.Effect<void>
  readonly publishAll: (events: ReadonlyArray<A>) => Effect.Effect<void>
  /** `publish`, synchronously (for callbacks outside any fiber). */
  readonly unsafePublish: (event: A) => void
  /** `publishAll`, synchronously. */
  readonly unsafePublishAll: (events: ReadonlyArray<A>) => void
  /** Subscribes now; the stream ends when the subscription's scope or the broadcast's closes. */
  readonly subscribe: Effect.Effect<Stream.Stream<A>, never, Scope.Scope>
}

/**
 * Each subscriber buffers `capacity` events (4,096 by default) in its own sliding `Mailbox`. A mailbox rather than
 * a `PubSub` subscription because a subscriber is woken for every event as a rule, and waking a stream from a
 * mailbox measured half the cost.
 *
 * @internal
 */
export const makeBroadcast = <A>(capacity = 4096): Effect.Effect<Broadcast<A>, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => new Set<Mailbox.Mailbox<A>>()),
      (subscribers) => Effect.forEach(subscribers, (mailbox) => mailbox.end, { discard: true })
    ),
    (subscribers): Broadcast<A> => {
      const unsafePublish = (event: A) => {
        for (const mailbox of subscribers) mailbox.unsafeOffer(event)
      }
      const unsafePublishAll = (events: ReadonlyArray<A>) => {
        for (const mailbox of subscribers) mailbox.unsafeOfferAll(events)
      }
      return {
      publish: (event) => Effect.sync(() => unsafePublish(event)),
      publishAll: (events) => Effect.sync(() => unsafePublishAll(events)),
      unsafePublish,
      unsafePublishAll,
      subscribe: Effect.map(
        Effect.acquireRelease(
          Effect.tap(
            Mailbox.make<A>({ capacity, strategy: "sliding" }),
            (mailbox) => Effect.sync(() => subscribers.add(mailbox))
          ),
          (mailbox) => Effect.zipRight(Effect.sync(() => subscribers.delete(mailbox)), mailbox.end)
        ),
        Mailbox.toStream
      )
    }
    }
  )
