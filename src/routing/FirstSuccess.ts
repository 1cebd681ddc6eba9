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
 * Nodes that health polling found on another network are never asked; nodes
 * the head monitor (when one runs) reports lagging are asked after the others.
 *
 * The error type of `f` should be secret-free (as `NodeRequest.getJson`'s is):
 * attempts are logged and listed in the error with their cause's message.
 *
 * @since 0.1.0
 */
import { Effect, Either, Option } from "effect"
import { CandidateList } from "../candidates/CandidateList.js"
import { HealthPoller } from "../health/HealthPoller.js"
import { HeadMonitor } from "../monitor/HeadMonitor.js"
import type { BeaconNode } from "../node/BeaconNode.js"
import { type AllNodesFailed, describe, twoPasses } from "../requests/InOrder.js"

/**
 * The order requests try the candidates in: health order, without nodes on
 * another network (listed in `skipped`). Where a head monitor runs, nodes it
 * reports lagging (behind the newest head of the others by more than
 * `laggingSlots`) go after the up-to-date ones.
 *
 * @since 0.1.0
 */
export const requestOrder: Effect.Effect<
  { readonly nodes: ReadonlyArray<BeaconNode>; readonly skipped: ReadonlyArray<string> },
  never,
  HealthPoller
> = Effect.gen(function*() {
  const sorted = yield* Effect.flatMap(HealthPoller, (health) => health.byHealth)
  const monitor = yield* Effect.serviceOption(HeadMonitor)
  const statuses = Option.isSome(monitor) ? yield* monitor.value.status : []
  const lagging = new Set(statuses.filter((status) => status.lagging).map((status) => status.node.id))
  const compatible = sorted.filter((h) => h.state._tag !== "Incompatible").map((h) => h.node)
  return {
    nodes: [...compatible.filter((node) => !lagging.has(node.id)), ...compatible.filter((node) => lagging.has(node.id))],
    skipped: sorted.filter((h) => h.state._tag === "Incompatible").map((h) => h.node.display)
  }
})

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
): Effect.Effect<A, AllNodesFailed<E>, R | HealthPoller> =>
  Effect.flatMap(requestOrder, ({ nodes, skipped }) => twoPasses(nodes, nodes, f, [], skipped))

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
): Effect.Effect<A, AllNodesFailed<E>, R | HealthPoller | CandidateList> =>
  Effect.gen(function*() {
    const list = yield* (yield* CandidateList).get
    const { nodes, skipped } = yield* requestOrder
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
