/** A loopback server for tests that need the request itself (its method, headers, body), closed with the scope. */
import { Effect } from "effect"
import type * as Http from "node:http"
import { LoopbackServer } from "../../src/simulator/LoopbackServer.js"

export interface RawServer {
  readonly url: string
  /** Connections open now. */
  readonly connections: () => number
  /** Stops listening and drops every connection (before the scope closes). */
  readonly close: () => Promise<void>
}

/** A `LoopbackServer` on a free port answering every request with `handler`; stopped when the scope closes. */
export const serveRaw = (handler: (request: Http.IncomingMessage, response: Http.ServerResponse) => void) =>
  Effect.map(
    Effect.acquireRelease(
      Effect.promise(async () => {
        const server = new LoopbackServer((_url, response, request) => handler(request, response))
        await server.listen()
        return server
      }),
      (server) => Effect.promise(() => server.stop())
    ),
    (server): RawServer => ({
      url: `http://127.0.0.1:${server.port}`,
      connections: () => server.connections,
      close: () => server.stop()
    })
  )
