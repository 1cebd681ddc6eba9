/**
 * Requests with fallback over the beacon nodes, as the Lighthouse validator
 * client makes them: try one node at a time, best first; if every node fails,
 * try them all once more in the same order; if that fails too, fail with one
 * error that lists every attempt.
 *
 * `firstSuccessOrFallback` first asks a preferred node, normally the one whose
 * head event arrived first for the slot. If it fails, the fallback's first pass
 * skips it (it has just failed; asking it again at once costs time the others
 * could use) and the second pass tries it again with all the others. So every
 * node, the preferred one included, is asked at most twice. Lighthouse instead
 * runs its full `first_success` after the preferred node failed, which asks
 * that node up to three times.
 *
 * Nodes that health polling found on another network are never asked.
 *
 * The error type of `f` should be secret-free (as `NodeRequest.getJson`'s is):
 * attempts are logged and listed in the error with their cause's message.
 *
 * @since 0.1.0
 */
import { Data, Effect, Either } from "effect"
import { CandidateList } from "../candidates/CandidateList.js"
import { BeaconNodeHealth } from "../health/BeaconNodeHealth.js"
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

/** A first pass over `first`, then a second over `second`; `earlier` attempts head the error's list. */
const twoPasses = <A, E, R>(
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

/** The candidates in health order, without nodes on another network. */
const usable = Effect.map(BeaconNodeHealth, (health) => health.byHealth).pipe(
  Effect.flatten,
  Effect.map((sorted) => ({
    nodes: sorted.filter((h) => h.state._tag !== "Incompatible").map((h) => h.node),
    skipped: sorted.filter((h) => h.state._tag === "Incompatible").map((h) => h.node.display)
  }))
)

/**
 * Runs `f` against the candidates one at a time, best health first, and
 * returns the first success. If all fail, a second pass in the same order; if
 * that fails too, `AllNodesFailed` with every attempt.
 *
 * @since 0.1.0
 * @category combinators
 */
export const firstSuccess = <A, E, R>(
  f: (node: BeaconNode) => Effect.Effect<A, E, R>
): Effect.Effect<A, AllNodesFailed<E>, R | BeaconNodeHealth> =>
  Effect.flatMap(usable, ({ nodes, skipped }) => twoPasses(nodes, nodes, f, [], skipped))

/**
 * Runs `f` against `preferred` first; on failure, or if that node is no longer
 * a candidate (or is on another network), logs why and falls back to
 * `firstSuccess`, whose first pass skips the failed preferred node and whose
 * second pass includes it.
 *
 * @since 0.1.0
 * @category combinators
 */
export const firstSuccessOrFallback = <A, E, R>(
  preferred: BeaconNode,
  f: (node: BeaconNode) => Effect.Effect<A, E, R>
): Effect.Effect<A, AllNodesFailed<E>, R | BeaconNodeHealth | CandidateList> =>
  Effect.gen(function*() {
    const list = yield* (yield* CandidateList).get
    const { nodes, skipped } = yield* usable
    const log = (message: string, reason: string) =>
      Effect.logWarning(message).pipe(Effect.annotateLogs({ node: preferred.display, reason }))
    if (!list.positions.has(preferred.id)) {
      yield* log("preferred node is no longer a candidate, falling back", "removed from the candidate list")
      return yield* twoPasses(nodes, nodes, f, [], skipped)
    }
    const node = nodes.find((n) => n.id === preferred.id)
    if (node === undefined) {
      yield* log("preferred node is on another network, falling back", "incompatible")
      return yield* twoPasses(nodes, nodes, f, [], skipped)
    }
    const result = yield* Effect.either(f(node))
    if (Either.isRight(result)) return result.right
    yield* log("preferred node failed, falling back", describe(result.left))
    const others = nodes.filter((n) => n.id !== preferred.id)
    return yield* twoPasses(others, nodes, f, [{ node: node.display, round: "preferred", cause: result.left }], skipped)
  })
