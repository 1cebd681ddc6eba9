/**
 * Ranking of reachable beacon nodes, as the Lighthouse validator client does
 * it: the sync distance falls into a tier (synced, small, medium, large), which
 * is combined with the optimistic and execution-layer-offline flags into one of
 * sixteen health tiers, 1 best.
 *
 * Pure functions, so the whole table can be tested without a node.
 *
 * @since 0.1.0
 */

/**
 * Upper bounds (inclusive) of the sync-distance tiers, in slots. A distance
 * above `medium` is `large`.
 *
 * @since 0.1.0
 * @category models
 */
export interface SyncDistanceTiers {
  readonly synced: number
  readonly small: number
  readonly medium: number
}

/**
 * Tiers from tolerances, as Lighthouse's `--beacon-nodes-sync-tolerances`:
 * `tolerances(8, 8, 48)` is synced 0–8, small 9–16, medium 17–64, large 65+.
 *
 * @since 0.1.0
 * @category constructors
 */
export const tolerances = (synced: number, small: number, medium: number): SyncDistanceTiers => ({
  synced,
  small: synced + small,
  medium: synced + small + medium
})

/**
 * Lighthouse's defaults: 8, 8, 48.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultTiers: SyncDistanceTiers = tolerances(8, 8, 48)

/**
 * @since 0.1.0
 * @category models
 */
export type DistanceTier = "synced" | "small" | "medium" | "large"

/**
 * @since 0.1.0
 */
export const distanceTier = (tiers: SyncDistanceTiers, distance: number): DistanceTier =>
  distance <= tiers.synced ? "synced" : distance <= tiers.small ? "small" : distance <= tiers.medium ? "medium" : "large"

/**
 * What a node told about itself, enough to rank it.
 *
 * @since 0.1.0
 * @category models
 */
export interface SyncFlags {
  readonly syncDistance: number
  /** The node's head is not yet verified by its execution layer. */
  readonly optimistic: boolean
  /** The node's execution layer is offline. */
  readonly elOffline: boolean
}

/**
 * A node's place in the ranking.
 *
 * @since 0.1.0
 * @category models
 */
export interface HealthTier {
  /** 1 (synced, verified, execution layer online) to 16 (far behind, optimistic, execution layer offline). */
  readonly tier: number
  readonly distanceTier: DistanceTier
  readonly syncDistance: number
}

/**
 * The sixteen combinations, best first. A small distance beats an offline
 * execution layer, which beats a medium distance, which beats optimism, as in
 * Lighthouse (`compute_health_tier`).
 */
const ranking: ReadonlyArray<readonly [DistanceTier, optimistic: boolean, elOffline: boolean]> = [
  ["synced", false, false],
  ["small", false, false],
  ["synced", false, true],
  ["medium", false, false],
  ["synced", true, false],
  ["synced", true, true],
  ["small", false, true],
  ["small", true, false],
  ["small", true, true],
  ["large", false, false],
  ["medium", false, true],
  ["medium", true, false],
  ["medium", true, true],
  ["large", false, true],
  ["large", true, false],
  ["large", true, true]
]

/**
 * The health tier of a node from its sync flags.
 *
 * @since 0.1.0
 * @category constructors
 */
export const healthTier = (tiers: SyncDistanceTiers, flags: SyncFlags): HealthTier => {
  const distance = distanceTier(tiers, flags.syncDistance)
  const index = ranking.findIndex(([d, optimistic, elOffline]) =>
    d === distance && optimistic === flags.optimistic && elOffline === flags.elOffline
  )
  return { tier: index + 1, distanceTier: distance, syncDistance: flags.syncDistance }
}

/**
 * Orders two tiers, best first. Within one tier the smaller sync distance wins,
 * except among synced nodes: there the distance is noise (a node one slot
 * behind is as good as one on time), so they compare equal and the user's list
 * order decides.
 *
 * @since 0.1.0
 * @category ordering
 */
export const compare = (a: HealthTier, b: HealthTier): number => {
  if (a.tier !== b.tier) return a.tier - b.tier
  return a.distanceTier === "synced" ? 0 : a.syncDistance - b.syncDistance
}
