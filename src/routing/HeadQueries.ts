/**
 * Questions to the head cache: which nodes have block root R as their head,
 * and do at least k of them agree on it.
 *
 * The cache keeps each node's latest head only, so "has seen R" means "R is
 * its head now": a node that moved on to a child of R no longer counts.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import type { CachedHead } from "../cache/BeaconHeadCache.js"
import { HeadCacheView } from "../cache/HeadCacheView.js"

/**
 * The nodes whose head is `root`, earliest arrival first.
 *
 * @since 0.1.0
 * @category queries
 */
export const nodesWithRoot = (root: string): Effect.Effect<ReadonlyArray<CachedHead>, never, HeadCacheView> =>
  Effect.map(
    Effect.flatMap(HeadCacheView, (cache) => cache.newestFirst),
    (heads) => heads.filter((head) => head.block === root).sort((a, b) => a.receivedAt - b.receivedAt)
  )

/**
 * Whether at least `k` nodes have `root` as their head.
 *
 * @since 0.1.0
 * @category queries
 */
export const agree = (root: string, k: number): Effect.Effect<boolean, never, HeadCacheView> =>
  Effect.map(nodesWithRoot(root), (heads) => heads.length >= k)
