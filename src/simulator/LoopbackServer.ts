/**
 * A `node:http` server on 127.0.0.1 that can be stopped as a killed process
 * stops (every connection dropped at once) and started again on the same port:
 * what the simulated beacon nodes and the benchmark servers are built on.
 *
 * @since 0.1.0
 */
import * as Http from "node:http"
import type { AddressInfo, Socket } from "node:net"

/**
 * Answers a request; `url` is its target, already parsed (path and query are what the servers read), and `request`
 * the request itself (its method, headers, body).
 *
 * @since 0.1.0
 * @category models
 */
export type Handler = (url: URL, response: Http.ServerResponse, request: Http.IncomingMessage) => void

/**
 * The request's target as a URL, or `undefined` when it is none (`GET //[bad`):
 * `new URL` would throw inside the server's event handler and end the process.
 */
const targetOf = (request: Http.IncomingMessage): URL | undefined => {
  try {
    return new URL(request.url ?? "/", "http://127.0.0.1")
  } catch {
    return undefined
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export class LoopbackServer {
  private readonly server: Http.Server
  private readonly sockets = new Set<Socket>()
  /** Fails the listen in progress, if any: a server error meanwhile is that listen's failure. */
  private failListen: ((error: Error) => void) | undefined = undefined
  /**
   * The last server error outside a listen (a failed accept, such as EMFILE): kept, not thrown, as the
   * server goes on serving the connections it has and accepting others.
   */
  lastError: Error | undefined = undefined

  /**
   * @param handler gets every request whose target parses; any other is answered 400 with a JSON error here.
   * @param port 0 picks a free port, kept across restarts.
   */
  constructor(handler: Handler, public port = 0) {
    this.server = Http.createServer((request, response) => {
      const url = targetOf(request)
      if (url !== undefined) return handler(url, response, request)
      response.writeHead(400, { "content-type": "application/json" })
      response.end(JSON.stringify({ code: 400, message: "invalid request target" }))
    })
    this.server.on("connection", (socket) => {
      // Events are small and latency matters: no Nagle delay.
      socket.setNoDelay(true)
      this.sockets.add(socket)
      this.accepted++
      socket.on("close", () => this.sockets.delete(socket))
    })
    // Always there: an 'error' event without a listener would be thrown and end the process.
    this.server.on("error", (error) => {
      if (this.failListen === undefined) this.lastError = error
      else this.failListen(error)
    })
  }

  /** Connections accepted since the server was made. */
  accepted = 0

  /** Connections open now, of any kind (event streams, REST requests, idle keep-alive ones). */
  get connections(): number {
    return this.sockets.size
  }

  /** Starts listening (again, on the same port after `stop`). */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      // Both outcomes remove what the other would have run: a failed listen leaves no callback behind.
      const listening = () => {
        this.failListen = undefined
        this.port = (this.server.address() as AddressInfo).port
        resolve()
      }
      this.failListen = (error) => {
        this.failListen = undefined
        this.server.off("listening", listening)
        reject(error)
      }
      this.server.once("listening", listening)
      try {
        this.server.listen(this.port, "127.0.0.1")
      } catch (error) {
        // Thrown rather than emitted: listening already.
        this.failListen(error instanceof Error ? error : new Error(String(error)))
      }
    })
  }

  /** Stops listening and destroys every connection at once: clients see refused/reset. */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      for (const socket of this.sockets) socket.destroy()
    })
  }
}
