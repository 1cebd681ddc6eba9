/**
 * The health of one beacon node as last polled, the order in which requests
 * try the nodes, and the JSON form shown to operators.
 *
 * @since 0.1.0
 */
import { Data } from "effect"
import type { BeaconNode } from "../node/BeaconNode.js"
import * as HealthTier from "./HealthTier.js"

/**
 * - `Unknown`: not polled yet (a node that just joined the list);
 * - `Online`: answered `/eth/v1/node/syncing`; ranked by its health tier;
 * - `Unreachable`: the last poll failed (the network check runs again once it answers);
 * - `Incompatible`: the node is on another network (its `/eth/v1/config/spec` differs).
 *
 * @since 0.1.0
 * @category models
 */
export type HealthState = Data.TaggedEnum<{
  Unknown: {}
  Online: {
    readonly tier: HealthTier.HealthTier
    readonly headSlot: number
    readonly optimistic: boolean
    readonly elOffline: boolean
    /** When the node answered, epoch milliseconds of the effect `Clock`. */
    readonly checkedAt: number
  }
  Unreachable: {
    /** Secret-free reason of the last failure. */
    readonly reason: string
    readonly checkedAt: number
  }
  Incompatible: {
    /** Which network setting differs, with both values. */
    readonly reason: string
    readonly checkedAt: number
  }
}>

/**
 * @since 0.1.0
 * @category constructors
 */
export const HealthState = Data.taggedEnum<HealthState>()

/**
 * @since 0.1.0
 * @category models
 */
export interface NodeHealth {
  readonly node: BeaconNode
  /** Position in the candidate list: the tie-breaker between equally healthy nodes. */
  readonly index: number
  readonly state: HealthState
}

/** Online nodes first, then the ones not polled yet, then unreachable, then incompatible. */
const group: Record<HealthState["_tag"], number> = { Online: 0, Unknown: 1, Unreachable: 2, Incompatible: 3 }

/**
 * Best first: online nodes by health tier (ties by sync distance except among
 * synced nodes), then unknown, unreachable and incompatible nodes; equals by
 * list position.
 *
 * @since 0.1.0
 * @category ordering
 */
export const compare = (a: NodeHealth, b: NodeHealth): number => {
  const byGroup = group[a.state._tag] - group[b.state._tag]
  if (byGroup !== 0) return byGroup
  const byTier = a.state._tag === "Online" && b.state._tag === "Online" ? HealthTier.compare(a.state.tier, b.state.tier) : 0
  return byTier !== 0 ? byTier : a.index - b.index
}

/**
 * A sorted copy, best first.
 *
 * @since 0.1.0
 * @category ordering
 */
export const sort = (health: ReadonlyArray<NodeHealth>): ReadonlyArray<NodeHealth> => [...health].sort(compare)

/**
 * The JSON form of one node's health (display URL only), e.g. for an admin API.
 *
 * @since 0.1.0
 * @category models
 */
export interface NodeHealthJson {
  readonly node: string
  readonly index: number
  readonly state: "unknown" | "online" | "unreachable" | "incompatible"
  readonly tier?: number
  readonly distanceTier?: HealthTier.DistanceTier
  readonly syncDistance?: number
  readonly headSlot?: number
  readonly optimistic?: boolean
  readonly elOffline?: boolean
  readonly reason?: string
  /** ISO time of the last answer or failure. */
  readonly checkedAt?: string
}

/**
 * The JSON form of one node's health.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toJson = (health: NodeHealth): NodeHealthJson => {
  const base = { node: health.node.display, index: health.index }
  return HealthState.$match(health.state, {
    Unknown: (): NodeHealthJson => ({ ...base, state: "unknown" }),
    Online: (s): NodeHealthJson => ({
      ...base,
      state: "online",
      tier: s.tier.tier,
      distanceTier: s.tier.distanceTier,
      syncDistance: s.tier.syncDistance,
      headSlot: s.headSlot,
      optimistic: s.optimistic,
      elOffline: s.elOffline,
      checkedAt: new Date(s.checkedAt).toISOString()
    }),
    Unreachable: (s): NodeHealthJson => ({ ...base, state: "unreachable", reason: s.reason, checkedAt: new Date(s.checkedAt).toISOString() }),
    Incompatible: (s): NodeHealthJson => ({ ...base, state: "incompatible", reason: s.reason, checkedAt: new Date(s.checkedAt).toISOString() })
  })
}
