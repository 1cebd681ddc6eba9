/**
 * A lean loopback SSE server for the benchmarks: one `node:http` server
 * serving many beacon nodes, one per base path (`/n17/eth/v1/events` is node
 * `http://127.0.0.1:PORT/n17`; the monitor tells nodes apart by URL, base
 * path included). It keeps per-node counters and nothing else, so that at
 * 1,000 streams the server is not what is measured.
 *
 * Response headers are sent at once; with `greet`, a new stream gets the
 * current head straight away (so that connect time, not slot time, is measured).
 * Each node answers the two REST requests the monitor makes, as a beacon node
 * does: its head (`/eth/v1/beacon/headers/head`) and its spec (mainnet's slot).
 */
import * as Http from "node:http"
import { LoopbackServer } from "../../src/simulator/LoopbackServer.js"
import { headerAnswer, headEvent, specAnswer } from "./HeadEvents.js"

const eventsPath = /^\/([^/]+)\/eth\/v1\/events$/
const headerPath = /^\/[^/]+\/eth\/v1\/beacon\/headers\/head$/
const specPath = /^\/[^/]+\/eth\/v1\/config\/spec$/

export class MultiNodeServer {
  private readonly http: LoopbackServer
  readonly streams = new Map<string, Set<Http.ServerResponse>>()
  /** Event-stream requests per node. */
  readonly requests = new Map<string, number>()
  /** Events written per node. */
  readonly sent = new Map<string, number>()
  /** Send the current head to every new stream. */
  greet = false
  slot = 0

  constructor() {
    this.http = new LoopbackServer((url, response) => this.handle(url, response))
  }

  get port(): number {
    return this.http.port
  }

  url(node: string): string {
    return `http://127.0.0.1:${this.port}/${node}`
  }

  /** Open streams of all nodes. */
  get open(): number {
    let n = 0
    for (const set of this.streams.values()) n += set.size
    return n
  }

  listen(): Promise<void> {
    return this.http.listen()
  }

  /** Stops listening and destroys every connection, like a killed process. */
  stop(): Promise<void> {
    this.streams.clear()
    return this.http.stop()
  }

  /** Writes the head of `slot` to a node's open streams; returns `performance.now()` just before the write. */
  send(node: string, slot: number): number {
    const streams = this.streams.get(node)
    const at = performance.now()
    if (streams === undefined) return at
    const text = headEvent(slot)
    for (const response of streams) {
      response.write(text)
      this.sent.set(node, (this.sent.get(node) ?? 0) + 1)
    }
    return at
  }

  /** Writes `count` heads (slots 1…count) to a node as fast as its socket takes them. */
  async blast(node: string, count: number): Promise<void> {
    const response = [...(this.streams.get(node) ?? [])][0]
    if (response === undefined) throw new Error(`no stream for ${node}`)
    const batch = 64
    for (let slot = 1; slot <= count;) {
      let text = ""
      for (const end = Math.min(count, slot + batch - 1); slot <= end; slot++) text += headEvent(slot)
      if (!response.write(text)) await new Promise((resolve) => response.once("drain", resolve))
    }
    this.sent.set(node, (this.sent.get(node) ?? 0) + count)
  }

  private handle(url: URL, response: Http.ServerResponse): void {
    const node = eventsPath.exec(url.pathname)?.[1]
    if (node === undefined) {
      const answer = headerPath.test(url.pathname) ? headerAnswer(this.slot) : specPath.test(url.pathname) ? specAnswer : undefined
      if (answer === undefined) response.writeHead(404).end()
      else response.writeHead(200, { "content-type": "application/json" }).end(answer)
      return
    }
    this.requests.set(node, (this.requests.get(node) ?? 0) + 1)
    const streams = this.streams.get(node) ?? new Set()
    this.streams.set(node, streams)
    streams.add(response)
    response.once("close", () => streams.delete(response))
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
    response.flushHeaders()
    if (this.greet && this.slot > 0) this.send(node, this.slot)
  }
}
