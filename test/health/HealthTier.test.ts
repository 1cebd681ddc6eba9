import { describe, expect, it } from "@effect/vitest"
import * as HealthTier from "../../src/health/HealthTier.js"
import { HealthState, type NodeHealth, sort, toJson } from "../../src/health/NodeHealth.js"
import { unsafeParse } from "../../src/node/BeaconNode.js"

const tiers = HealthTier.defaultTiers

/** Lighthouse's table: [distance tier, optimistic, EL offline] → tier. */
const expected: ReadonlyArray<readonly [HealthTier.DistanceTier, boolean, boolean, number]> = [
  ["synced", false, false, 1],
  ["small", false, false, 2],
  ["synced", false, true, 3],
  ["medium", false, false, 4],
  ["synced", true, false, 5],
  ["synced", true, true, 6],
  ["small", false, true, 7],
  ["small", true, false, 8],
  ["small", true, true, 9],
  ["large", false, false, 10],
  ["medium", false, true, 11],
  ["medium", true, false, 12],
  ["medium", true, true, 13],
  ["large", false, true, 14],
  ["large", true, false, 15],
  ["large", true, true, 16]
]

/** Both ends of each distance tier with the default tolerances 8, 8, 48. */
const distances: Record<HealthTier.DistanceTier, ReadonlyArray<number>> = {
  synced: [0, 8],
  small: [9, 16],
  medium: [17, 64],
  large: [65, 10_000]
}

const online = (index: number, flags: HealthTier.SyncFlags): NodeHealth => ({
  node: unsafeParse(`http://node-${index}.test`),
  index,
  state: HealthState.Online({
    tier: HealthTier.healthTier(tiers, flags),
    headSlot: 100 - flags.syncDistance,
    optimistic: flags.optimistic,
    elOffline: flags.elOffline,
    checkedAt: 0
  })
})

const order = (health: ReadonlyArray<NodeHealth>) => sort(health).map((h) => h.index)

describe("HealthTier", () => {
  it("default tolerances 8,8,48 give synced 0–8, small 9–16, medium 17–64, large 65+", () => {
    const at = (d: number) => HealthTier.distanceTier(tiers, d)
    expect([0, 8, 9, 16, 17, 64, 65].map(at)).toEqual(["synced", "synced", "small", "small", "medium", "medium", "large"])
    const custom = HealthTier.tolerances(4, 4, 4)
    expect([4, 5, 8, 9, 12, 13].map((d) => HealthTier.distanceTier(custom, d)))
      .toEqual(["synced", "small", "small", "medium", "medium", "large"])
  })

  it("ranks every combination of distance tier, optimism and EL status as Lighthouse does", () => {
    for (const [distanceTier, optimistic, elOffline, tier] of expected) {
      for (const syncDistance of distances[distanceTier]) {
        expect(HealthTier.healthTier(tiers, { syncDistance, optimistic, elOffline }))
          .toEqual({ tier, distanceTier, syncDistance })
      }
    }
  })

  it("sorts all sixteen tiers best first, whatever the list order", () => {
    // List position is the reverse of the tier, so only the tier can produce the expected order.
    const health = expected.map(([distanceTier, optimistic, elOffline], i) =>
      online(expected.length - 1 - i, { syncDistance: distances[distanceTier][0]!, optimistic, elOffline })
    )
    const sorted = sort(health).map((h) => h.state._tag === "Online" ? h.state.tier.tier : 0)
    expect(sorted).toEqual(expected.map(([, , , tier]) => tier))
  })

  it("does not reorder synced nodes by distance, but other tiers by distance, then list position", () => {
    const flags = { optimistic: false, elOffline: false }
    // Synced: 8 behind and 0 behind are equal, list order decides.
    expect(order([online(0, { ...flags, syncDistance: 8 }), online(1, { ...flags, syncDistance: 0 })])).toEqual([0, 1])
    // Small: the closer node wins although it is later in the list.
    expect(order([online(0, { ...flags, syncDistance: 16 }), online(1, { ...flags, syncDistance: 9 })])).toEqual([1, 0])
    // Medium and large too; equal distance falls back to list order.
    expect(order([online(0, { ...flags, syncDistance: 64 }), online(1, { ...flags, syncDistance: 17 })])).toEqual([1, 0])
    expect(order([online(0, { ...flags, syncDistance: 900 }), online(1, { ...flags, syncDistance: 65 })])).toEqual([1, 0])
    expect(order([online(1, { ...flags, syncDistance: 20 }), online(0, { ...flags, syncDistance: 20 })])).toEqual([0, 1])
  })

  it("puts unknown, unreachable and incompatible nodes after every online node, in that order", () => {
    const node = (index: number) => unsafeParse(`http://node-${index}.test`)
    const health: Array<NodeHealth> = [
      { node: node(0), index: 0, state: HealthState.Incompatible({ reason: "other network", checkedAt: 0 }) },
      { node: node(1), index: 1, state: HealthState.Unreachable({ reason: "refused", checkedAt: 0 }) },
      { node: node(2), index: 2, state: HealthState.Unknown() },
      online(3, { syncDistance: 10_000, optimistic: true, elOffline: true }),
      { node: node(4), index: 4, state: HealthState.Unreachable({ reason: "refused", checkedAt: 0 }) }
    ]
    expect(order(health)).toEqual([3, 2, 1, 4, 0])
  })

  it("shows health as JSON with the display URL only", () => {
    const node = unsafeParse("http://user:pw@node.test/?apikey=secret")
    const json = toJson({ node, index: 0, state: HealthState.Unreachable({ reason: "refused", checkedAt: 0 }) })
    expect(json).toEqual({
      node: "http://user:***@node.test?apikey=***",
      index: 0,
      state: "unreachable",
      reason: "refused",
      checked_at: "1970-01-01T00:00:00.000Z"
    })
    expect(JSON.stringify(toJson(online(1, { syncDistance: 3, optimistic: false, elOffline: false })))).toContain(
      `"tier":1,"distance_tier":"synced","sync_distance":"3","head_slot":"97"`
    )
  })
})
