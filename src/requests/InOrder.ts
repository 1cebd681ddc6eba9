/**
 * Trying beacon nodes one at a time in a given order, twice over, and the
 * error that lists every attempt: the core of `FirstSuccess`, usable with any
 * order (e.g. the plain list order before health is known).
 *
 * @since 0.1.0
 */
import { Data, Effect, Either } from "effect"
import type { BeaconNode } from "../node/BeaconNode.js"

/**
 * Which try an attempt was: the preferred node, or a pass over the candidates.
 *
 * @since 0.1.0
 * @category models
 */
export type Round = "preferred" | "first" | "second"

/**
 * One failed attempt.
 *
 * @since 0.1.0
 * @category models
 */
export interface Attempt<E> {
  /** Display form of the node (no secrets). */
  readonly node: string
  readonly round: Round
  readonly cause: E
}

/**
 * A short text for any failure: its `message` if it has one.
 *
 * @since 0.1.0
 */
export const describe = (cause: unknown): string => {
  if (typeof cause === "object" && cause !== null && "message" in cause && typeof cause.message === "string") {
    return cause.message
  }
  return String(cause)
}

/**
 * Every node failed, twice.
 *
 * @since 0.1.0
 * @category errors
 */
export class AllNodesFailed<E> extends Data.TaggedError("AllNodesFailed")<{
  /** Every attempt, in the order made. */
  readonly attempts: ReadonlyArray<Attempt<E>>
  /** Display form of the nodes not asked because they are on another network. */
  readonly skipped: ReadonlyArray<string>
}> {
  override get message() {
    const skipped = this.skipped.length === 0 ? "" : `; not asked (other network): ${this.skipped.join(", ")}`
    if (this.attempts.length === 0) return `no beacon node to ask${skipped}`
    const attempts = this.attempts.map((a) => `${a.node} (${a.round}): ${describe(a.cause)}`).join("; ")
    return `all ${this.attempts.length} attempts failed: ${attempts}${skipped}`
  }
}

/** Runs `f` on each node in turn until one succeeds; collects the failures. */
const pass = <A, E, R>(
  nodes: ReadonlyArray<BeaconNode>,
  round: Round,
  f: (node: BeaconNode) => Effect.Effect<A, E, R>,
  attempts: Array<Attempt<E>>
): Effect.Effect<Either.Either<A, void>, never, R> =>
  Effect.gen(function*() {
    for (const node of nodes) {
      const result = yield* Effect.either(f(node))
      if (Either.isRight(result)) return Either.right(result.right)
      attempts.push({ node: node.display, round, cause: result.left })
      yield* Effect.logDebug("request to beacon node failed").pipe(
        Effect.annotateLogs({ node: node.display, round, reason: describe(result.left) })
      )
    }
    return Either.left(undefined)
  })

/**
 * A first pass over `first`, then a second over `second`; `earlier` attempts
 * (e.g. a preferred node's) head the error's list.
 *
 * @since 0.1.0
 * @category combinators
 */
export const twoPasses = <A, E, R>(
  first: ReadonlyArray<BeaconNode>,
  second: ReadonlyArray<BeaconNode>,
  f: (node: BeaconNode) => Effect.Effect<A, E, R>,
  earlier: ReadonlyArray<Attempt<E>>,
  skipped: ReadonlyArray<string>
): Effect.Effect<A, AllNodesFailed<E>, R> =>
  Effect.gen(function*() {
    const attempts = [...earlier]
    const one = yield* pass(first, "first", f, attempts)
    if (Either.isRight(one)) return one.right
    const two = yield* pass(second, "second", f, attempts)
    if (Either.isRight(two)) return two.right
    return yield* Effect.fail(new AllNodesFailed({ attempts, skipped }))
  })

/**
 * `firstSuccess` over a list given by the caller, in its order.
 *
 * @since 0.1.0
 * @category combinators
 */
export const firstSuccessIn = <A, E, R>(
  nodes: ReadonlyArray<BeaconNode>,
  f: (node: BeaconNode) => Effect.Effect<A, E, R>
): Effect.Effect<A, AllNodesFailed<E>, R> => twoPasses(nodes, nodes, f, [], [])

