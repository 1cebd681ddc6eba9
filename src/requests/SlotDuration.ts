/**
 * The chain's slot length, the one source of every slot-sized timing: the
 * configured value if there is one, else what the nodes' `/eth/v1/config/spec`
 * says (`SLOT_DURATION_MS` where a node gives it, else `SECONDS_PER_SLOT`).
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import { Array as Arr, Duration, Effect, Option, type Scope, Schema } from "effect"
import { Uint64String } from "../events/BeaconEvent.js"
import type { BeaconNode } from "../node/BeaconNode.js"
import { getJson, NodeRequestError } from "./NodeRequest.js"

/**
 * Mainnet's slot: assumed, with a warning, only when no slot length is configured and no node tells one.
 *
 * @since 0.1.0
 */
export const mainnet: Duration.Duration = Duration.seconds(12)

/** How long the nodes are given to tell their slot length. */
const askTimeout = Duration.seconds(3)

const Spec = Schema.Struct({
  data: Schema.Struct({
    SECONDS_PER_SLOT: Schema.optional(Uint64String),
    SLOT_DURATION_MS: Schema.optional(Uint64String)
  })
})

/**
 * The slot length one node's `/eth/v1/config/spec` gives.
 *
 * @since 0.1.0
 * @category requests
 */
export const ofNode = (
  node: BeaconNode,
  timeout: Duration.DurationInput = askTimeout
): Effect.Effect<Duration.Duration, NodeRequestError, HttpClient.HttpClient> =>
  Effect.flatMap(getJson(node, "/eth/v1/config/spec", Spec, { timeout }), ({ data }) => {
    const millis = data.SLOT_DURATION_MS ?? (data.SECONDS_PER_SLOT ?? 0) * 1000
    return millis > 0 ? Effect.succeed(Duration.millis(millis)) : Effect.fail(
      new NodeRequestError({
        node: node.display,
        path: "/eth/v1/config/spec",
        reason: "invalid",
        detail: "no SECONDS_PER_SLOT or SLOT_DURATION_MS"
      })
    )
  })

/**
 * What one node said.
 *
 * @since 0.1.0
 * @category models
 */
export interface Told {
  /** Display form of the node (no secrets). */
  readonly node: string
  readonly slotDuration: Duration.Duration
}

/** Requests in flight at most: 1,000 nodes asked all at once held ~25 MiB of requests at start. */
const askedAtOnce = 32

/**
 * Asks the nodes in list order, `askedAtOnce` (32) in flight, all within `timeout` in all; the answers in list order
 * (nodes that did not answer in time, or were not asked before it ran out, are left out, logged at debug level).
 *
 * @since 0.1.0
 * @category requests
 */
export const ask = (
  nodes: ReadonlyArray<BeaconNode>,
  timeout: Duration.DurationInput = askTimeout
): Effect.Effect<ReadonlyArray<Told>, never, HttpClient.HttpClient> =>
  Effect.flatMap(Effect.clock, (clock) => {
    const deadline = clock.unsafeCurrentTimeMillis() + Duration.toMillis(timeout)
    const askOne = (node: BeaconNode) => {
      const left = deadline - clock.unsafeCurrentTimeMillis()
      // Out of time before its turn: not asked at all (a request with no time left would only be sent to fail).
      if (left <= 0) {
        return Effect.as(
          Effect.annotateLogs(Effect.logDebug("beacon node not asked its slot length: out of time"), { node: node.display }),
          Option.none<Told>()
        )
      }
      return ofNode(node, left).pipe(
        Effect.map((slotDuration): Told => ({ node: node.display, slotDuration })),
        Effect.tapError((error) =>
          Effect.logDebug("beacon node did not tell its slot length").pipe(
            Effect.annotateLogs({ node: node.display, reason: error.message })
          )
        ),
        Effect.option
      )
    }
    return Effect.map(Effect.forEach(nodes, askOne, { concurrency: askedAtOnce }), Arr.getSomes)
  })

const format = (slot: Duration.Duration) => `${Duration.toMillis(slot) / 1000} s`

/** One warning when some node says another slot length than the one used. */
const warnIfOthers = (told: ReadonlyArray<Told>, used: Duration.Duration, source: string) => {
  const others = told.filter((one) => !Duration.equals(one.slotDuration, used))
  if (others.length === 0) return Effect.void
  return Effect.logWarning(`beacon nodes tell another slot length than the one used (${format(used)}, ${source})`).pipe(
    Effect.annotateLogs({ told: told.map((one) => `${one.node}: ${format(one.slotDuration)}`).join(", ") })
  )
}

/**
 * The slot length to follow the nodes with.
 *
 * - `configured` (an option, a flag): used as given at once; the nodes are still asked, on a fiber of the scope, and
 *   one warning names those that say otherwise;
 * - else the first node in list order that tells it (asked in list order, 32 at once, 3 s in all); one warning names
 *   those that say otherwise;
 * - else, no node answering, mainnet's 12 s with a warning saying how to set it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolve = (
  nodes: ReadonlyArray<BeaconNode>,
  configured: Option.Option<Duration.Duration>
): Effect.Effect<Duration.Duration, never, HttpClient.HttpClient | Scope.Scope> =>
  Option.match(configured, {
    onSome: (slot) =>
      Effect.as(Effect.forkScoped(Effect.flatMap(ask(nodes), (told) => warnIfOthers(told, slot, "configured"))), slot),
    onNone: () =>
      Effect.flatMap(ask(nodes), (told) => {
        const first = told[0]
        if (first === undefined) {
          return Effect.as(
            Effect.logWarning(
              `no beacon node told its slot length; assuming mainnet's ${format(mainnet)} (set slotDuration, or --seconds-per-slot)`
            ),
            mainnet
          )
        }
        return Effect.as(warnIfOthers(told, first.slotDuration, `told by ${first.node}`), first.slotDuration)
      })
  })
