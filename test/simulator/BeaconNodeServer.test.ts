/**
 * The simulated beacon node's server against hostile or unlucky input, over
 * real sockets: a request target that is no URL, a port already taken.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { connect } from "node:net"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"

/**
 * Sends `GET target` as HTTP/1.0 on a fresh connection, byte for byte as given (no client would send
 * such a target), and answers everything the server writes before it closes the connection.
 */
const raw = (port: number, target: string): Effect.Effect<string> =>
  Effect.async<string>((resume) => {
    let answer = ""
    const socket = connect(port, "127.0.0.1", () => socket.write(`GET ${target} HTTP/1.0\r\nHost: x\r\n\r\n`))
    socket.setEncoding("utf8")
    socket.on("data", (chunk: string) => (answer += chunk))
    socket.on("close", () => resume(Effect.succeed(answer)))
    return Effect.sync(() => socket.destroy())
  })

describe("BeaconNodeServer", () => {
  it.scoped("answers a request target that is no URL with 400 and a JSON error, and keeps serving", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      for (const target of ["//[bad", "//user@[::1", "http://[x"]) {
        const answer = yield* raw(server.port, target)
        expect(answer).toMatch(/^HTTP\/1\.1 400 /)
        expect(answer).toContain("content-type: application/json")
        expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).toEqual({
          code: 400,
          message: "invalid request target"
        })
      }
      // Still up: an ordinary request is answered.
      server.route("/eth/v1/node/version", () => ({ status: 200, body: { data: { version: "sim" } } }))
      const answer = yield* raw(server.port, "/eth/v1/node/version")
      expect(answer).toMatch(/^HTTP\/1\.1 200 /)
      expect(answer).toContain(`{"data":{"version":"sim"}}`)
    }))

  it.scoped("a taken port fails with a ListenError naming it, as does a restart on it", () =>
    Effect.gen(function*() {
      const first = yield* BeaconNodeServer.make()
      const error = yield* Effect.flip(BeaconNodeServer.make({ port: first.port }))
      expect(error).toBeInstanceOf(BeaconNodeServer.ListenError)
      expect(error.message).toBe(`simulated beacon node cannot listen on 127.0.0.1:${first.port}: EADDRINUSE`)

      // Stopped, its port taken by another, then restarted: the same error; freed, the restart works.
      yield* Effect.promise(() => first.stop())
      const other = yield* BeaconNodeServer.make({ port: first.port })
      expect(yield* Effect.flip(BeaconNodeServer.listen(first))).toMatchObject({ port: first.port, detail: "EADDRINUSE" })
      yield* Effect.promise(() => other.stop())
      yield* BeaconNodeServer.listen(first)
      expect(yield* raw(first.port, "/eth/v1/events-not")).toMatch(/^HTTP\/1\.1 404 /)
    }))
})
