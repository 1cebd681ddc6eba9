/**
 * Scripted beacon nodes in memory: the {@link StreamTransport} and an
 * `HttpClient` answered by nodes that a test drives, with no socket and no
 * real time. Everything a node does happens when the test says so, in the
 * test's own call: `send` runs the connection's chunk handler before it
 * returns, as `node:http`'s `data` callback does. With `TestClock`, every
 * reconnect, stall and retry happens at an exact, asserted time.
 *
 * Nodes are told apart by their URL's host (`http://a.test`, `http://b.test`);
 * a request to a host no node has fails as `unreachable`.
 *
 * @since 0.1.0
 */
import { HttpClient, HttpClientError, HttpClientResponse } from "@effect/platform"
import { Clock, Effect, Layer, type Scope } from "effect"
import { type BeaconNode, unsafeParse } from "../node/BeaconNode.js"
import { type BeaconStreamError, fromTransport } from "./BeaconStreamError.js"
import { abortable, type ChunkHandler, type StreamResponse, StreamTransport } from "./StreamTransport.js"

/**
 * How a node answers a new event-stream request:
 * - `stream`: 200 with an event stream; the status and headers come with the first bytes sent (as a real node
 *   does) or at once (`eagerHeaders`);
 * - `status`: this status with a JSON body (or `contentType`), then the end;
 * - `refuse`: no response, a transport error with this code (`ECONNREFUSED`, `ECONNRESET`, `ENOTFOUND` …);
 * - `silent`: accepts the request and never answers.
 *
 * @since 0.1.0
 * @category models
 */
export type Answer =
  | { readonly _tag: "stream"; readonly eagerHeaders?: boolean }
  | { readonly _tag: "status"; readonly status: number; readonly contentType?: string }
  | { readonly _tag: "refuse"; readonly code: string }
  | { readonly _tag: "silent" }

/**
 * One event-stream request a node received, and how it ended (times by the effect clock).
 *
 * @since 0.1.0
 * @category models
 */
export interface Request {
  readonly at: number
  readonly topics: ReadonlyArray<string>
  /** When the connection closed, if it has. */
  closedAt: number | undefined
  /** Who closed it: the client (abort, drop) or the node (end, reset, an answer without a stream). */
  closedBy: "client" | "node" | undefined
}

/** The node's side of one open connection. */
class Connection {
  /** Bytes sent before the client reads (as a socket buffers them). */
  private readonly buffered: Array<Uint8Array> = []
  private handler: ChunkHandler | undefined = undefined
  private finish: ((effect: Effect.Effect<void, BeaconStreamError>) => void) | undefined = undefined
  /** How the body ended before the client read it. */
  private ending: Effect.Effect<void, BeaconStreamError> | undefined = undefined
  /** The answer, once given; and the client waiting for it. */
  private answered: Effect.Effect<StreamResponse, BeaconStreamError> | undefined = undefined
  private waiter: ((response: Effect.Effect<StreamResponse, BeaconStreamError>) => void) | undefined = undefined

  constructor(
    private readonly display: string,
    /** Aborted by the client to drop the connection (see `StreamRequest.signal`). */
    private readonly signal: AbortSignal,
    /** Marks the request closed and forgets the connection. */
    readonly close: (by: "client" | "node") => void
  ) {}

  /** The client's wait for status and headers (suspended: the constructor's fields are set after this one). */
  readonly response: Effect.Effect<StreamResponse, BeaconStreamError> = Effect.suspend(() =>
    abortable<StreamResponse>(this.signal, (settle) => {
      if (this.answered !== undefined) return settle(() => this.answered!)
      this.waiter = (response) => settle(() => response)
    })
  )

  private respond(response: Effect.Effect<StreamResponse, BeaconStreamError>): void {
    if (this.answered !== undefined) return
    this.answered = response
    this.waiter?.(response)
  }

  sendHeaders(): void {
    this.respond(Effect.succeed({
      status: 200,
      headers: { "content-type": "text/event-stream" },
      read: (onChunk) => this.read(onChunk)
    }))
  }

  private read(onChunk: ChunkHandler): Effect.Effect<void, BeaconStreamError> {
    return abortable<void>(this.signal, (settle) => {
      this.handler = onChunk
      this.finish = (effect) => settle(() => effect)
      for (const bytes of this.buffered.splice(0)) {
        if (!this.deliver(bytes)) return
      }
      if (this.ending !== undefined) settle(() => this.ending!)
    })
  }

  /** Hands bytes to the client; false once the client stopped reading. */
  private deliver(bytes: Uint8Array): boolean {
    const stop = this.handler!(bytes)
    if (stop === undefined) return true
    this.handler = undefined
    this.close("client")
    this.finish!(Effect.fail(stop))
    return false
  }

  write(bytes: Uint8Array): void {
    this.sendHeaders()
    if (this.handler === undefined) this.buffered.push(bytes)
    else this.deliver(bytes)
  }

  /** The node ends the body (`undefined`) or breaks the connection (an error). */
  end(error: BeaconStreamError | undefined): void {
    this.close("node")
    // Before any answer, even an end is a broken connection.
    this.respond(Effect.fail(error ?? fromTransport(this.display, { code: "ECONNRESET" })))
    const ending = error === undefined ? Effect.void : Effect.fail(error)
    if (this.finish === undefined) this.ending = ending
    else if (this.handler !== undefined) {
      this.handler = undefined
      this.finish(ending)
    }
  }
}

const encoder = new TextEncoder()

/**
 * A scripted beacon node. Its REST API answers `GET /eth/v1/beacon/headers/head`
 * with the last head it sent (or `restStatus`), anything else with 404.
 *
 * @since 0.1.0
 * @category models
 */
export class ScriptedNode {
  /** How new event-stream requests are answered (default: a stream, headers with the first bytes). */
  answer: Answer = { _tag: "stream" }
  /** Every event-stream request, in order. */
  readonly requests: Array<Request> = []
  /** The node's head as its REST API reports it; `send("head", …)` moves it. */
  head: { readonly slot: number; readonly root: string } | undefined = undefined
  /** When set, REST requests are answered with this status instead. */
  restStatus: number | undefined = undefined
  /** REST requests received, by path. */
  readonly restRequests: Array<{ readonly at: number; readonly path: string }> = []
  private readonly connections = new Set<Connection>()
  readonly node: BeaconNode

  constructor(readonly url: string) {
    this.node = unsafeParse(url)
  }

  /** Connections open now (answered or waiting for headers). */
  get open(): number {
    return this.connections.size
  }

  /** Sends an event to every open connection (a `head` event also moves the REST head). */
  send(topic: string, data: unknown): void {
    if (topic === "head" && typeof data === "object" && data !== null) {
      const { block, slot } = data as { readonly slot?: unknown; readonly block?: unknown }
      if (typeof block === "string" && (typeof slot === "string" || typeof slot === "number")) {
        this.head = { slot: Number(slot), root: block }
      }
    }
    this.sendRaw(`event: ${topic}\ndata: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`)
  }

  /** Writes raw bytes to every open connection; one that was waiting for headers gets them first. */
  sendRaw(text: string): void {
    const bytes = encoder.encode(text)
    for (const connection of [...this.connections]) connection.write(bytes)
  }

  /** Ends every open stream normally (a graceful restart). */
  end(): void {
    for (const connection of [...this.connections]) connection.end(undefined)
  }

  /** Breaks every open connection (a killed node, a dropped link): the client sees `code`. */
  reset(code = "ECONNRESET"): void {
    for (const connection of [...this.connections]) {
      connection.end(fromTransport(this.node.display, { code }))
    }
  }

  /** @internal */
  openStream(topics: ReadonlyArray<string>, signal: AbortSignal): Effect.Effect<StreamResponse, BeaconStreamError, Scope.Scope> {
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const request: Request = { at: now, topics, closedAt: undefined, closedBy: undefined }
      this.requests.push(request)
      const display = this.node.display
      const answer = this.answer
      const closeNow = (by: "client" | "node") => (at: number) => {
        if (request.closedBy !== undefined) return
        request.closedAt = at
        request.closedBy = by
      }
      switch (answer._tag) {
        case "refuse":
          closeNow("node")(now)
          return Effect.fail(fromTransport(display, { code: answer.code }))
        case "status":
          closeNow("node")(now)
          return Effect.succeed({
            status: answer.status,
            headers: { "content-type": answer.contentType ?? "application/json" },
            read: () => Effect.void
          })
        case "silent":
        case "stream":
          return Effect.flatMap(Effect.clock, (clock) =>
            Effect.acquireRelease(
              Effect.sync(() => {
                const connection: Connection = new Connection(display, signal, (by) => {
                  closeNow(by)(clock.unsafeCurrentTimeMillis())
                  this.connections.delete(connection)
                })
                this.connections.add(connection)
                if (answer._tag === "stream" && answer.eagerHeaders === true) connection.sendHeaders()
                return connection
              }),
              // Closed by the client unless the node closed it first: an abort.
              (connection) => Effect.sync(() => connection.close("client"))
            ).pipe(Effect.flatMap((connection) => connection.response)))
      }
    })
  }

  /** @internal */
  rest(path: string, at: number): { readonly status: number; readonly body: unknown } {
    this.restRequests.push({ at, path })
    if (this.restStatus !== undefined) return { status: this.restStatus, body: { code: this.restStatus } }
    if (path !== "/eth/v1/beacon/headers/head" || this.head === undefined) {
      return { status: 404, body: { code: 404, message: "not found" } }
    }
    return {
      status: 200,
      body: {
        execution_optimistic: false,
        finalized: false,
        data: {
          root: this.head.root,
          canonical: true,
          header: {
            message: {
              slot: String(this.head.slot),
              proposer_index: "0",
              parent_root: this.head.root,
              state_root: this.head.root,
              body_root: this.head.root
            },
            signature: "0x"
          }
        }
      }
    }
  }
}

/**
 * Scripted nodes and the layer that puts them in place of the network.
 *
 * @since 0.1.0
 * @category models
 */
export interface ScriptedNetwork {
  /** The node at `url` (created on first use). */
  readonly node: (url: string) => ScriptedNode
  /** The stream transport and the `HttpClient`, both answered by the scripted nodes. */
  readonly layer: Layer.Layer<StreamTransport | HttpClient.HttpClient>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (): ScriptedNetwork => {
  const nodes = new Map<string, ScriptedNode>()
  const find = (url: URL) => nodes.get(url.host)
  const transport = Layer.succeed(StreamTransport, {
    open: ({ node, signal, topics }) => {
      const scripted = find(node.endpoint("/"))
      return scripted === undefined
        ? Effect.fail(fromTransport(node.display, { code: "ENOTFOUND" }))
        : scripted.openStream(topics, signal)
    }
  })
  const client = Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request, url) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const scripted = find(url)
        if (scripted === undefined) {
          const cause = Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" })
          return Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause }))
        }
        const { body, status } = scripted.rest(url.pathname, now)
        return Effect.succeed(HttpClientResponse.fromWeb(
          request,
          new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } })
        ))
      })
    )
  )
  return {
    node: (url) => {
      const host = new URL(url).host
      const existing = nodes.get(host)
      if (existing !== undefined) return existing
      const scripted = new ScriptedNode(url)
      nodes.set(host, scripted)
      return scripted
    },
    layer: Layer.merge(transport, client)
  }
}
