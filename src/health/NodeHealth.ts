/**
 * The health of one beacon node as last polled, the order in which requests
 * try the nodes, and the JSON form shown to operators.
 *
 * @since 0.1.0
 */
import { Data, Schema } from "effect"
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
 * The JSON form of one node's health, in the style of the Beacon API (snake
 * case, slots as decimal strings, instants ISO 8601 UTC), display URL only.
 *
 * @since 0.1.0
 * @category schemas
 */
export const NodeHealthJson = Schema.Struct({
  node: Schema.String,
  index: Schema.Number,
  state: Schema.Literal("unknown", "online", "unreachable", "incompatible"),
  /** Health tier 1 (best) to 16, online nodes only. */
  tier: Schema.optional(Schema.Number),
  distance_tier: Schema.optional(Schema.Literal("synced", "small", "medium", "large")),
  sync_distance: Schema.optional(Schema.String),
  head_slot: Schema.optional(Schema.String),
  is_optimistic: Schema.optional(Schema.Boolean),
  el_offline: Schema.optional(Schema.Boolean),
  /** Why a node is unreachable or incompatible. */
  reason: Schema.optional(Schema.String),
  /** When the node last answered or failed. */
  checked_at: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type NodeHealthJson = typeof NodeHealthJson.Type

const iso = (millis: number) => new Date(millis).toISOString()

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
      distance_tier: s.tier.distanceTier,
      sync_distance: String(s.tier.syncDistance),
      head_slot: String(s.headSlot),
      is_optimistic: s.optimistic,
      el_offline: s.elOffline,
      checked_at: iso(s.checkedAt)
    }),
    Unreachable: (s): NodeHealthJson => ({ ...base, state: "unreachable", reason: s.reason, checked_at: iso(s.checkedAt) }),
    Incompatible: (s): NodeHealthJson => ({ ...base, state: "incompatible", reason: s.reason, checked_at: iso(s.checkedAt) })
  })
}
