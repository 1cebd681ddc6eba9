/**
 * The admin HTTP API, Lighthouse-compatible where Lighthouse has the route:
 *
 * - `POST /lighthouse/beacon/update` `{"beacon_nodes": [...]}` replaces the
 *   candidate list (the head monitor reconciles it) and answers the accepted
 *   list in display form;
 * - `GET /lighthouse/beacon/health` answers every node's connection state,
 *   counters and latest head, in list order;
 * - `GET /heads` answers the consensus view: the head most nodes report and how
 *   far each node is from it;
 * - `GET /arrivals` answers each node's head arrivals after the slot start
 *   (`ArrivalStats`);
 * - `GET /feed` is the live page's event stream (`Dashboard`).
 *
 * The live page itself (`GET /` and `/assets/...`) is static and public: it
 * holds no data. Every other request needs `Authorization: Bearer <token>` (401
 * otherwise, checked before anything else, so that an unauthorised client learns
 * nothing, not even which paths exist). Every refused request gets a JSON
 * `{"code", "message"}` with a 4xx/5xx status and changes nothing.
 *
 * `app` is the whole API as an `HttpApp`, for any `HttpServer`; `layer` serves
 * it with `node:http`, by default on 127.0.0.1:5062.
 *
 * @since 0.1.0
 */
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Context, Effect, Layer, Option, type Schema } from "effect"
import { createServer } from "node:http"
import type { ArrivalStats } from "../arrivals/ArrivalStats.js"
import { CandidateList } from "../candidates/CandidateList.js"
import * as Dashboard from "../dashboard/Dashboard.js"
import { DashboardFeed } from "../dashboard/DashboardFeed.js"
import type { PageAssets, PageAssetsError } from "../dashboard/PageAssets.js"
import { HeadMonitor } from "../monitor/HeadMonitor.js"
import * as AdminApiError from "./AdminApiError.js"
import * as ApiToken from "./ApiToken.js"
import * as ArrivalsView from "./ArrivalsView.js"
import * as HealthReport from "./HealthReport.js"
import * as BeaconUpdate from "./BeaconUpdate.js"
import * as HeadsView from "./HeadsView.js"
import * as JsonBody from "./JsonBody.js"

/**
 * @since 0.1.0
 */
export const updatePath = "/lighthouse/beacon/update"

/**
 * @since 0.1.0
 */
export const healthPath = "/lighthouse/beacon/health"

/**
 * @since 0.1.0
 */
export const headsPath = "/heads"

/**
 * @since 0.1.0
 */
export const arrivalsPath = "/arrivals"

/**
 * Largest request body accepted (64 KiB): a list of 64 URLs fits many times over.
 *
 * @since 0.1.0
 */
export const maxBodyBytes = 64 * 1024

/** Our own answers always match their schema: an encoding failure is a bug. */
const respond = <A, I>(schema: Schema.Schema<A, I>, body: A) =>
  Effect.orDie(HttpServerResponse.schemaJson(schema)(body))

const update = Effect.gen(function*() {
  const { beacon_nodes } = yield* JsonBody.read(BeaconUpdate.UpdateRequest, {
    maxBytes: maxBodyBytes,
    expected: BeaconUpdate.expectedShape
  })
  const list = yield* CandidateList
  const accepted = yield* list.update(beacon_nodes).pipe(
    Effect.tapError((error) =>
      Effect.logWarning("beacon node list refused").pipe(Effect.annotateLogs({ reason: error.message }))
    ),
    Effect.mapError(AdminApiError.fromInvalidList)
  )
  // Answer once the monitor follows the new list, so that a health request right after shows every node.
  yield* Effect.flatMap(HeadMonitor, (monitor) => monitor.awaitReconciled)
  const answer = BeaconUpdate.response(accepted)
  yield* Effect.logInfo("beacon node list replaced").pipe(
    Effect.annotateLogs({ version: accepted.version, nodes: answer.data.new_beacon_nodes_list.join(", ") })
  )
  return yield* respond(BeaconUpdate.UpdateResponse, answer)
})

const health = Effect.flatMap(HealthReport.current, (body) => respond(HealthReport.HealthReport, body))

const heads = Effect.flatMap(HeadsView.current, (body) => respond(HeadsView.HeadsResponse, body))

const arrivals = Effect.flatMap(ArrivalsView.current, (body) => respond(ArrivalsView.ArrivalsResponse, body))

/**
 * The routes, without authentication: mount them only behind `app`.
 *
 * @since 0.1.0
 * @category routers
 */
export const router = HttpRouter.empty.pipe(
  HttpRouter.post(updatePath, update),
  HttpRouter.get(healthPath, health),
  HttpRouter.get(headsPath, heads),
  HttpRouter.get(arrivalsPath, arrivals),
  HttpRouter.get(Dashboard.feedPath, Dashboard.feed)
)

const pathOf = (request: HttpServerRequest.HttpServerRequest): string =>
  Option.match(HttpServerRequest.toURL(request), { onNone: () => request.url, onSome: (url) => url.pathname })

/** 405 with `Allow` when the path exists for other methods, else 404. */
const notFound = (request: HttpServerRequest.HttpServerRequest): HttpServerResponse.HttpServerResponse => {
  const path = pathOf(request)
  const allowed = [...router.routes].filter((route) => route.path === path)
  return allowed.length === 0
    ? AdminApiError.toResponse(AdminApiError.make(404, `no route ${JSON.stringify(path.slice(0, 128))}`))
    : AdminApiError.toResponse(
      AdminApiError.make(405, `method ${request.method} is not allowed on ${path}`),
      { allow: allowed.map((route) => route.method).join(", ") }
    )
}

const unauthorized = AdminApiError.make(401, "missing or wrong bearer token")

/**
 * The whole API: the page's static files, authentication, routes, and a JSON
 * error for every refusal.
 *
 * @since 0.1.0
 * @category apps
 */
export const app: Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  never,
  | HttpServerRequest.HttpServerRequest
  | ApiToken.ApiToken
  | CandidateList
  | HeadMonitor
  | ArrivalStats
  | DashboardFeed
  | PageAssets
> = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const file = yield* Dashboard.staticFile(request.method, pathOf(request))
  if (Option.isSome(file)) return file.value
  const token = yield* ApiToken.ApiToken
  if (!token.authorizes(request.headers["authorization"])) return yield* unauthorized
  return yield* router
}).pipe(
  Effect.catchTags({
    AdminApiError: (error) => Effect.succeed(AdminApiError.toResponse(error)),
    RouteNotFound: (error) => Effect.succeed(notFound(error.request))
  })
)

/**
 * @since 0.1.0
 * @category models
 */
export interface AdminApiOptions extends ApiToken.ApiTokenOptions {
  /** Interface to listen on (default 127.0.0.1: loopback only). */
  readonly host?: string | undefined
  /** Port to listen on (default 5062, as Lighthouse's validator client; 0 picks a free one). */
  readonly port?: number | undefined
}

/**
 * The running API.
 *
 * @since 0.1.0
 * @category models
 */
export interface AdminApiService {
  /** Base URL the API listens on, e.g. `http://127.0.0.1:5062`; the live page is at `/`. */
  readonly url: string
}

/**
 * @since 0.1.0
 * @category tags
 */
export class AdminApi extends Context.Tag("beacon-head-monitor/AdminApi")<AdminApi, AdminApiService>() {}

/**
 * Serves `app` on `node:http` for as long as the layer lives. Needs the
 * candidate list and the head monitor it administers and the arrival
 * statistics; the token is set up as `ApiToken.make` says (the file's path is
 * logged).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: AdminApiOptions = {}
): Layer.Layer<
  AdminApi,
  ServeError | ApiToken.ApiTokenError | PageAssetsError,
  CandidateList | HeadMonitor | ArrivalStats
> =>
  Layer.unwrapEffect(Effect.sync(() => {
    const server = createServer()
    return Layer.scoped(
      AdminApi,
      Effect.gen(function*() {
        yield* HttpServer.serveEffect(app)
        // Runs before the server is closed, which would wait for every open response, and for requests that
        // arrive once the handler is gone (a page reconnecting its feed) forever: the feeds end, then every
        // connection is closed with the server.
        yield* Effect.addFinalizer(() =>
          Effect.flatMap(DashboardFeed, (feed) => feed.close).pipe(Effect.zipRight(Effect.sync(() => {
            server.close()
            server.closeAllConnections()
          })))
        )
        const url = yield* HttpServer.addressFormattedWith(Effect.succeed)
        yield* Effect.logInfo("admin API listening").pipe(Effect.annotateLogs({ url }))
        yield* Effect.logInfo("live page").pipe(Effect.annotateLogs({ url: `${url}${Dashboard.pagePath}` }))
        return { url }
      })
    ).pipe(
      Layer.provide(ApiToken.layer(options)),
      Layer.provide(Dashboard.layer),
      Layer.provide(NodeHttpServer.layer(() => server, {
        host: options.host ?? "127.0.0.1",
        port: options.port ?? 5062
      }))
    )
  }))
