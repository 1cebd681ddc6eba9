/**
 * The live page, mounted by the admin server: the page at `/` and its files
 * under `/assets/` are static and public (they hold no data and no token);
 * the feed at `/feed` is an admin route like every other, behind the bearer
 * token, which the page asks for once and sends as an `Authorization` header.
 *
 * @since 0.1.0
 */
import { HttpServerResponse } from "@effect/platform"
import { Effect, Layer, Option, Stream } from "effect"
import * as AdminApiError from "../admin/AdminApiError.js"
import type { ArrivalStats } from "../arrivals/ArrivalStats.js"
import type { CandidateList } from "../candidates/CandidateList.js"
import type { HeadMonitor } from "../monitor/HeadMonitor.js"
import { DashboardFeed } from "./DashboardFeed.js"
import * as DashboardFeedModule from "./DashboardFeed.js"
import { type Asset, PageAssets, type PageAssetsError } from "./PageAssets.js"
import * as PageAssetsModule from "./PageAssets.js"

/**
 * @since 0.1.0
 */
export const pagePath = "/"

/**
 * @since 0.1.0
 */
export const assetsPrefix = "/assets/"

/**
 * @since 0.1.0
 */
export const feedPath = "/feed"

/** The page may load and talk to nothing but this server, run no inline script, and be framed by no one. */
const pageHeaders = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache"
}

const serve = (asset: Asset) =>
  HttpServerResponse.uint8Array(asset.body, { contentType: asset.contentType, headers: pageHeaders })

/**
 * The static file at `path` (a `GET` of `/` or `/assets/NAME`), if there is one.
 *
 * @since 0.1.0
 * @category handlers
 */
export const staticFile = (
  method: string,
  path: string
): Effect.Effect<Option.Option<HttpServerResponse.HttpServerResponse>, never, PageAssets> =>
  Effect.map(PageAssets, (files) => {
    if (method !== "GET" && method !== "HEAD") return Option.none()
    if (path === pagePath) return Option.some(serve(files.page))
    if (!path.startsWith(assetsPrefix)) return Option.none()
    return Option.map(Option.fromNullable(files.assets.get(path.slice(assetsPrefix.length))), serve)
  })

/**
 * `GET /feed`: the client's event stream, or 503 when too many clients are open.
 *
 * @since 0.1.0
 * @category handlers
 */
export const feed: Effect.Effect<HttpServerResponse.HttpServerResponse, AdminApiError.AdminApiError, DashboardFeed> =
  Effect.flatMap(DashboardFeed, (dashboard) =>
    dashboard.open.pipe(
      Effect.mapError((error) => AdminApiError.make(503, error.message)),
      Effect.map((stream) =>
        HttpServerResponse.stream(Stream.encodeText(stream), {
          contentType: "text/event-stream",
          headers: { "cache-control": "no-store", "x-accel-buffering": "no" }
        })
      )
    ))

/**
 * The page's files and the feed, for the admin server.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  PageAssets | DashboardFeed,
  PageAssetsError,
  HeadMonitor | CandidateList | ArrivalStats
> = Layer.merge(PageAssetsModule.layer, DashboardFeedModule.layer)
