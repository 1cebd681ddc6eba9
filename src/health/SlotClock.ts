/**
 * The chain's slot clock: genesis time and slot length, read from the effect
 * `Clock` (so `TestClock` drives it in tests).
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import { Context, Duration, Effect, Layer, Option, Schema } from "effect"
import { CandidateList } from "../candidates/CandidateList.js"
import { Uint64String } from "../events/BeaconEvent.js"
import { HeadMonitor } from "../monitor/HeadMonitor.js"
import { type AllNodesFailed, firstSuccessIn } from "../requests/InOrder.js"
import { getJson, type NodeRequestError } from "../requests/NodeRequest.js"
import * as SlotDuration from "../requests/SlotDuration.js"

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

/**
 * Reads the genesis time, and the slot length unless given, from the first
 * candidate that answers `/eth/v1/beacon/genesis` (and `/eth/v1/config/spec`),
 * in list order (each node asked at most twice).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromNodes = (
  slotDuration?: Duration.DurationInput
): Effect.Effect<SlotClockService, AllNodesFailed<NodeRequestError>, CandidateList | HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const { nodes } = yield* (yield* CandidateList).get
    return yield* firstSuccessIn(nodes, (node) =>
      Effect.gen(function*() {
        const genesis = yield* getJson(node, "/eth/v1/beacon/genesis", Genesis)
        return make({
          genesisTime: genesis.data.genesis_time,
          slotDuration: slotDuration ?? (yield* SlotDuration.ofNode(node))
        })
      }))
  })

/**
 * @since 0.1.0
 * @category models
 */
export interface FromNodesOptions {
  /** The slot length, if not the chain's own (default: the `HeadMonitor`'s when one is in the context). */
  readonly slotDuration?: Duration.DurationInput | undefined
  /** How long to wait before asking again while no node answers (default 5 s). */
  readonly retryEvery?: Duration.DurationInput | undefined
}

/**
 * A slot clock read from the candidates (see {@link fromNodes}). The slot
 * length is `slotDuration` if given, else the `HeadMonitor`'s if one is in the
 * context (so that the health lookahead and the monitor count one slot), else
 * the node's own. While no node answers, it logs why and asks again every
 * `retryEvery`, so a program started before its nodes waits for them.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromNodes = (
  options: FromNodesOptions = {}
): Layer.Layer<SlotClock, never, CandidateList | HttpClient.HttpClient> => {
  const retryEvery = options.retryEvery ?? Duration.seconds(5)
  const read = (
    slotDuration: Duration.DurationInput | undefined
  ): Effect.Effect<SlotClockService, never, CandidateList | HttpClient.HttpClient> =>
    fromNodes(slotDuration).pipe(
      Effect.catchAll((error) =>
        Effect.logWarning("cannot read the slot clock from any node, retrying", error.message).pipe(
          Effect.zipRight(Effect.sleep(retryEvery)),
          Effect.zipRight(Effect.suspend(() => read(slotDuration)))
        )
      )
    )
  return Layer.effect(
    SlotClock,
    Effect.flatMap(Effect.serviceOption(HeadMonitor), (monitor) =>
      read(
        options.slotDuration ??
          Option.getOrUndefined(Option.map(monitor, (running) => running.options.slotDuration))
      ))
  )
}
