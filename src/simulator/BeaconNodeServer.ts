/**
 * A real HTTP server on loopback that speaks the part of the Beacon API the
 * monitor uses, and can be told to misbehave: the building block of the
 * simulated devnet and of the tests.
 *
 * It serves `GET /eth/v1/events` as Server-Sent Events (by default like
 * Lodestar: headers only with the first event) and any other path through
 * handlers set with `route`. Faults: answer a status instead of streaming,
 * accept and stay silent, end or reset open streams, refuse connections.
 *
 * @since 0.1.0
 */
import { Data, Effect, type Scope } from "effect"
import * as Http from "node:http"
import { errorCode } from "../internal/errorCode.js"
import { LoopbackServer } from "./LoopbackServer.js"

/**
 * How `/eth/v1/events` is answered.
 * - `stream`: 200 `text/event-stream`, events as they are sent;
 * - `status`: that HTTP status with a JSON error body;
 * - `silent`: accept the request and never answer.
 *
 * @since 0.1.0
 * @category models
 */
export type EventsMode =
  | { readonly _tag: "stream" }
  | { readonly _tag: "status"; readonly status: number }
  | { readonly _tag: "silent" }

/**
 * A JSON answer for a REST route (given the request's URL and method), or `undefined` for 404.
 *
 * @since 0.1.0
 * @category models
 */
export type RouteHandler = (
  url: URL,
  method: string
) => { readonly status: number; readonly body: unknown } | undefined

/**
 * @since 0.1.0
 * @category models
 */
export interface BeaconNodeServerOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  readonly port?: number
  /** Send response headers at once instead of with the first event (default false, as Lodestar). */
  readonly eagerHeaders?: boolean
}

interface Subscriber {
  readonly response: Http.ServerResponse
  readonly topics: ReadonlySet<string>
}

/**
 * @since 0.1.0
 * @category models
 */
export class BeaconNodeServer {
  private readonly http: LoopbackServer
  private readonly subscribers = new Set<Subscriber>()
  private readonly routes = new Map<string, RouteHandler>()
  /** How `/eth/v1/events` is answered from now on. */
  mode: EventsMode = { _tag: "stream" }
  /**
   * Topics this node does not know, and how it answers a request naming one:
   * `400` as newer servers do, or `hang` (no answer at all) as Lodestar v1.5.1 did.
   */
  unknownTopics: { readonly topics: ReadonlySet<string>; readonly answer: "400" | "hang" } | undefined = undefined
  /** Accept every REST request and never answer it, as a hung node does (event streams follow `mode`). */
  restSilent = false
  /** Event-stream requests received, by any mode. */
  requests = 0
  /** Event-stream connections that ended on the client's side or ours. */
  closed = 0
  /** Events written, per topic. */
  readonly sent = new Map<string, number>()
  /** Topics query of every event-stream request, in order (`head,chain_reorg`). */
  readonly requestedTopics: Array<string> = []
  /** Called whenever an event stream opens (mode `stream`), with its topics: lets a script greet new subscribers. */
  onSubscribe: ((topics: ReadonlySet<string>) => void) | undefined = undefined

  constructor(private readonly options: BeaconNodeServerOptions = {}) {
    this.http = new LoopbackServer((url, response) => this.handle(url, response), options.port ?? 0)
  }

  /** The port, kept across restarts. */
  get port(): number {
    return this.http.port
  }

  /** Base URL of this node. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** Event streams open now. */
  get open(): number {
    return this.subscribers.size
  }

  /** Connections open now, event streams or not: shows a client that keeps them. */
  get connections(): number {
    return this.http.connections
  }

  /** Connections accepted since the server was made, of any kind. */
  get accepted(): number {
    return this.http.accepted
  }

  /** Starts listening (again, on the same port after `stop`). */
  listen(): Promise<void> {
    return this.http.listen()
  }

  /** Stops listening and drops every connection at once, as a killed process does: clients see refused/reset. */
  stop(): Promise<void> {
    this.subscribers.clear()
    return this.http.stop()
  }

  /** Sets the JSON handler of a REST path such as `/eth/v1/node/syncing`. */
  route(path: string, handler: RouteHandler): void {
    this.routes.set(path, handler)
  }

  /** Sends an event to every open stream subscribed to its topic; returns how many received it. */
  send(topic: string, data: unknown): number {
    return this.sendRaw(`event: ${topic}\ndata: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`, topic)
  }

  /** Writes raw bytes to every open stream (subscribed to `topic`, if given); counts them under `topic`. */
  sendRaw(text: string, topic?: string): number {
    let delivered = 0
    for (const { response, topics } of this.subscribers) {
      if (topic !== undefined && !topics.has(topic)) continue
      response.write(text)
      delivered++
    }
    if (topic !== undefined) this.sent.set(topic, (this.sent.get(topic) ?? 0) + delivered)
    return delivered
  }

  /** Ends every open stream normally (a graceful restart). */
  endStreams(): void {
    for (const { response } of this.subscribers) response.end()
    this.subscribers.clear()
  }

  private handle(url: URL, response: Http.ServerResponse): void {
    if (url.pathname === "/eth/v1/events") return this.events(url, response)
    if (this.restSilent) return
    const answer = this.routes.get(url.pathname)?.(url, response.req.method ?? "GET")
    const status = answer?.status ?? 404
    response.writeHead(status, { "content-type": "application/json" })
    response.end(JSON.stringify(answer?.body ?? { code: status, message: "not found" }))
  }

  private events(url: URL, response: Http.ServerResponse): void {
    this.requests++
    const topics = url.searchParams.getAll("topics")
    this.requestedTopics.push(topics.join(","))
    const unknown = this.unknownTopics
    const refused = unknown !== undefined && topics.some((topic) => unknown.topics.has(topic))
    const mode: EventsMode = !refused
      ? this.mode
      : unknown.answer === "400"
      ? { _tag: "status", status: 400 }
      : { _tag: "silent" }
    if (mode._tag === "status") {
      response.writeHead(mode.status, { "content-type": "application/json" })
      response.end(JSON.stringify({ code: mode.status, message: `simulated ${mode.status}` }))
      return
    }
    response.once("close", () => {
      this.closed++
      this.subscribers.delete(subscriber)
    })
    const subscriber: Subscriber = { response, topics: new Set(topics) }
    if (mode._tag === "silent") return
    response.statusCode = 200
    response.setHeader("content-type", "text/event-stream")
    response.setHeader("cache-control", "no-cache")
    if (this.options.eagerHeaders) response.flushHeaders()
    this.subscribers.add(subscriber)
    this.onSubscribe?.(subscriber.topics)
  }
}

/**
 * A simulated beacon node could not listen (its port is taken).
 *
 * @since 0.1.0
 * @category errors
 */
export class ListenError extends Data.TaggedError("ListenError")<{
  readonly port: number
  /** The system's error code (`EADDRINUSE`), or what went wrong. */
  readonly detail: string
}> {
  override get message() {
    return `simulated beacon node cannot listen on 127.0.0.1:${this.port}: ${this.detail}`
  }
}

/**
 * Starts the server listening, or again on its port after `stop` (a restart).
 *
 * @since 0.1.0
 * @category constructors
 */
export const listen = (server: BeaconNodeServer): Effect.Effect<void, ListenError> =>
  Effect.tryPromise({
    try: () => server.listen(),
    catch: (error) => new ListenError({ port: server.port, detail: errorCode(error) ?? "listen failed" })
  })

/**
 * A started server, stopped when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: BeaconNodeServerOptions): Effect.Effect<BeaconNodeServer, ListenError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.suspend(() => {
      const server = new BeaconNodeServer(options)
      return Effect.as(listen(server), server)
    }),
    (server) => Effect.promise(() => server.stop())
  )
