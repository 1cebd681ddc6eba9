/** A bare `node:http` server on loopback for tests that need the request itself (its path, body, socket). */
import { Effect } from "effect"
import * as Http from "node:http"
import type { AddressInfo, Socket } from "node:net"

export interface RawServer {
  readonly url: string
  /** Connections open now. */
  readonly connections: () => number
  /** Drops every connection and stops listening. */
  readonly close: () => Promise<void>
}

/** A server on a free port answering every request with `handler`, closed with the scope. */
export const serveRaw = (handler: (request: Http.IncomingMessage, response: Http.ServerResponse) => void) =>
  Effect.acquireRelease(
    Effect.promise(async (): Promise<RawServer> => {
      const server = Http.createServer(handler)
      const sockets = new Set<Socket>()
      server.on("connection", (socket) => {
        sockets.add(socket)
        socket.on("close", () => sockets.delete(socket))
      })
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
      const { port } = server.address() as AddressInfo
      return {
        url: `http://127.0.0.1:${port}`,
        connections: () => sockets.size,
        close: () =>
          new Promise<void>((resolve) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => resolve())
          })
      }
    }),
    (server) => Effect.promise(server.close)
  )
