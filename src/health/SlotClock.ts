/**
 * The chain's slot clock: genesis time and slot length, read from the effect
 * `Clock` (so `TestClock` drives it in tests).
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import { Context, Duration, Effect, Layer, Schema } from "effect"
import { CandidateList } from "../candidates/CandidateList.js"
import { Uint64String } from "../events/BeaconEvent.js"
import { type AllNodesFailed, firstSuccessIn } from "../requests/InOrder.js"
import { getJson, NodeRequestError } from "../requests/NodeRequest.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface SlotClockOptions {
  /** Genesis time, Unix seconds (as `/eth/v1/beacon/genesis` gives it). */
  readonly genesisTime: number
  readonly slotDuration: Duration.DurationInput
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SlotClockService {
  /** Genesis, epoch milliseconds. */
  readonly genesis: number
  readonly slotDuration: Duration.Duration
  /** The slot at a time (epoch milliseconds); negative before genesis. */
  readonly slotAt: (millis: number) => number
  /** When a slot starts, epoch milliseconds. */
  readonly startOf: (slot: number) => number
  /** The slot now, by the effect `Clock`. */
  readonly currentSlot: Effect.Effect<number>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class SlotClock extends Context.Tag("beacon-head-monitor/SlotClock")<SlotClock, SlotClockService>() {}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: SlotClockOptions): SlotClockService => {
  const genesis = options.genesisTime * 1000
  const slotDuration = Duration.decode(options.slotDuration)
  const slotMillis = Duration.toMillis(slotDuration)
  const slotAt = (millis: number) => Math.floor((millis - genesis) / slotMillis)
  return {
    genesis,
    slotDuration,
    slotAt,
    startOf: (slot) => genesis + slot * slotMillis,
    currentSlot: Effect.map(Effect.clockWith((clock) => clock.currentTimeMillis), slotAt)
  }
}

/**
 * A slot clock from fixed values.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: SlotClockOptions): Layer.Layer<SlotClock> => Layer.succeed(SlotClock, make(options))

const Genesis = Schema.Struct({ data: Schema.Struct({ genesis_time: Uint64String }) })

/** `SECONDS_PER_SLOT`, or `SLOT_DURATION_MS` where a newer spec gives the slot length in milliseconds. */
const Spec = Schema.Struct({
  data: Schema.Struct({
    SECONDS_PER_SLOT: Schema.optional(Uint64String),
    SLOT_DURATION_MS: Schema.optional(Uint64String)
  })
})

/**
 * Reads genesis time and slot length from the first candidate that answers
 * both `/eth/v1/beacon/genesis` and `/eth/v1/config/spec`, in list order (each
 * node asked at most twice).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromNodes: Effect.Effect<
  SlotClockService,
  AllNodesFailed<NodeRequestError>,
  CandidateList | HttpClient.HttpClient
> = Effect.gen(function*() {
  const { nodes } = yield* (yield* CandidateList).get
  return yield* firstSuccessIn(nodes, (node) =>
    Effect.gen(function*() {
      const genesis = yield* getJson(node, "/eth/v1/beacon/genesis", Genesis)
      const { data } = yield* getJson(node, "/eth/v1/config/spec", Spec)
      const millis = data.SLOT_DURATION_MS ?? (data.SECONDS_PER_SLOT ?? 0) * 1000
      if (millis === 0) {
        return yield* new NodeRequestError({
          node: node.display,
          path: "/eth/v1/config/spec",
          reason: "invalid",
          detail: "no SECONDS_PER_SLOT or SLOT_DURATION_MS"
        })
      }
      return make({ genesisTime: genesis.data.genesis_time, slotDuration: Duration.millis(millis) })
    }))
})

/**
 * A slot clock read from the candidates (see {@link fromNodes}). While no node
 * answers, it logs why and asks again every `retryEvery` (default 5 s), so a
 * program started before its nodes waits for them.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromNodes = (
  retryEvery: Duration.DurationInput = Duration.seconds(5)
): Layer.Layer<SlotClock, never, CandidateList | HttpClient.HttpClient> => {
  const read: Effect.Effect<SlotClockService, never, CandidateList | HttpClient.HttpClient> = fromNodes.pipe(
    Effect.catchAll((error) =>
      Effect.logWarning("cannot read the slot clock from any node, retrying", error.message).pipe(
        Effect.zipRight(Effect.sleep(retryEvery)),
        Effect.zipRight(Effect.suspend(() => read))
      )
    )
  )
  return Layer.effect(SlotClock, read)
}
