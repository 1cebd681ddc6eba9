/**
 * A read-only view of the head cache: what consumers of the monitor read.
 *
 * The monitor owns its cache (it inserts, replaces and removes entries as
 * streams deliver and fail); a consumer that could write to it would corrupt
 * "first seen" and the consensus. `HeadMonitor.layer` therefore provides this
 * view, not the cache: a separate object holding only the reading operations.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import { BeaconHeadCache, type BeaconHeadCacheService } from "./BeaconHeadCache.js"

/**
 * The reading operations of `BeaconHeadCache`.
 *
 * @since 0.1.0
 * @category models
 */
export type HeadCacheViewService = Pick<BeaconHeadCacheService, "get" | "isLatest" | "newestFirst" | "leaders" | "size">

/**
 * @since 0.1.0
 * @category tags
 */
export class HeadCacheView extends Context.Tag("beacon-head-monitor/HeadCacheView")<
  HeadCacheView,
  HeadCacheViewService
>() {}

/**
 * The view of a cache: a new object, so the writing operations cannot be
 * reached from it even by a cast.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromCache = (cache: BeaconHeadCacheService): HeadCacheViewService => ({
  get: cache.get,
  isLatest: cache.isLatest,
  newestFirst: cache.newestFirst,
  leaders: cache.leaders,
  size: cache.size
})

/**
 * The view of the `BeaconHeadCache` in context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<HeadCacheView, never, BeaconHeadCache> = Layer.effect(
  HeadCacheView,
  Effect.map(BeaconHeadCache, fromCache)
)
