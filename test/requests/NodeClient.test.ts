/**
 * The monitor's `node:http` client against a real loopback server: bodies sent and read (once, for every reader),
 * the body size limit, a connection that breaks before or during the body, and an interrupted request that lets
 * its connection go.
 */
import { HttpClient, HttpClientRequest, HttpIncomingMessage } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Option, Schema, Stream } from "effect"
import type * as Http from "node:http"
import { unsafeParse } from "../../src/node/BeaconNode.js"
import * as NodeClient from "../../src/requests/NodeClient.js"
import { getJson } from "../../src/requests/NodeRequest.js"
import { serveRaw } from "../support/rawServer.js"
import { waitFor } from "../support/wait.js"

const json = (body: unknown) => (_request: Http.IncomingMessage, response: Http.ServerResponse) =>
  response.writeHead(200, { "content-type": "application/json", "set-cookie": "a=1" }).end(JSON.stringify(body))

describe("NodeClient", () => {
  it.scoped("the body is read once and kept: text, json and bytes all see it; status, headers and cookies", () =>
    Effect.gen(function*() {
      const server = yield* serveRaw(json({ data: { version: "sim/1" } }))
      const client = yield* HttpClient.HttpClient
      const response = yield* client.get(`${server.url}/eth/v1/node/version`)
      expect(response.status).toBe(200)
      expect(response.headers["content-type"]).toBe("application/json")
      expect(response.cookies.cookies["a"]?.value).toBe("1")
      // Known while the connection is the response's (it goes back to the pool once the body is read).
      expect(response.remoteAddress).toEqual(Option.some("127.0.0.1"))
      const text = yield* response.text
      expect(text).toBe(`{"data":{"version":"sim/1"}}`)
      expect(yield* response.json).toEqual({ data: { version: "sim/1" } })
      expect(new TextDecoder().decode(yield* response.arrayBuffer)).toBe(text)
    }).pipe(Effect.provide(NodeClient.layer())))

  it.scoped("readers waiting together get the same body", () =>
    Effect.gen(function*() {
      const server = yield* serveRaw((_request, response) => {
        response.writeHead(200, { "content-type": "text/plain" })
        response.write("first half, ")
        setTimeout(() => response.end("second half"), 50)
      })
      const response = yield* HttpClient.get(server.url)
      const texts = yield* Effect.all([response.text, response.text, response.text], { concurrency: "unbounded" })
      expect(texts).toEqual(Array(3).fill("first half, second half"))
    }).pipe(Effect.provide(NodeClient.layer())))

  it.scoped("a body streamed, and bodies sent with the request", () =>
    Effect.gen(function*() {
      const received: Array<string> = []
      const server = yield* serveRaw((request, response) => {
        let body = ""
        request.on("data", (chunk: Buffer) => body += chunk.toString())
        request.on("end", () => {
          received.push(`${request.method} ${request.headers["content-type"]} ${body}`)
          response.writeHead(200, { "content-type": "text/plain" }).end("a streamed answer")
        })
      })
      const client = yield* HttpClient.HttpClient
      const chunks = yield* Stream.runCollect((yield* client.get(server.url)).stream)
      expect(Buffer.concat(Chunk.toArray(chunks)).toString()).toBe("a streamed answer")
      yield* client.execute(HttpClientRequest.post(server.url).pipe(HttpClientRequest.bodyText("in memory")))
      yield* client.execute(HttpClientRequest.post(server.url).pipe(
        HttpClientRequest.bodyStream(Stream.make("as ", "a ", "stream").pipe(Stream.encodeText), { contentType: "text/plain" })
      ))
      expect(received).toEqual(["GET undefined ", "POST text/plain in memory", "POST text/plain as a stream"])
    }).pipe(Effect.provide(NodeClient.layer())))

  it.scoped("a body over the limit in context fails, and its connection goes", () =>
    Effect.gen(function*() {
      const server = yield* serveRaw((_request, response) => {
        response.writeHead(200, { "content-type": "text/plain" })
        // Far more than the limit, and never ended: only dropping the connection stops it.
        response.write("x".repeat(64 * 1024))
      })
      const response = yield* HttpClient.get(server.url)
      const error = yield* Effect.flip(HttpIncomingMessage.withMaxBodySize(response.text, Option.some(1024)))
      expect(error).toMatchObject({ _tag: "ResponseError", reason: "Decode" })
      expect(String(error.cause)).toContain("body over 1024 bytes")
      yield* waitFor("the connection to close", Effect.sync(() => server.connections() === 0))
    }).pipe(Effect.provide(NodeClient.layer())))

  it.scoped("a connection broken mid-body fails the read; refused fails the request with its code", () =>
    Effect.gen(function*() {
      const server = yield* serveRaw((_request, response) => {
        response.writeHead(200, { "content-type": "application/json" })
        response.write(`{"data":`)
        setTimeout(() => response.socket?.destroy(), 20)
      })
      const response = yield* HttpClient.get(server.url)
      expect(yield* Effect.flip(response.text)).toMatchObject({ _tag: "ResponseError", reason: "Decode" })
      // Through getJson: the node could not be reached in full, which is not a body that is not JSON.
      const node = unsafeParse(server.url)
      const schema = Schema.Struct({ data: Schema.Unknown })
      expect(yield* Effect.flip(getJson(node, "/eth/v1/node/version", schema))).toMatchObject({ reason: "reset" })

      const closed = yield* serveRaw(json({}))
      yield* Effect.promise(closed.close)
      const refused = yield* Effect.flip(HttpClient.get(closed.url))
      expect(refused).toMatchObject({ _tag: "RequestError", reason: "Transport", cause: { code: "ECONNREFUSED" } })
    }).pipe(Effect.provide(NodeClient.layer())))

  it.scoped("a request interrupted while it waits for its answer lets its connection go", () =>
    Effect.gen(function*() {
      const server = yield* serveRaw(() => {
        // Never answered.
      })
      const waiting = yield* Effect.fork(HttpClient.get(server.url))
      yield* waitFor("the request", Effect.sync(() => server.connections() === 1))
      yield* Fiber.interrupt(waiting)
      yield* waitFor("the connection to close", Effect.sync(() => server.connections() === 0))
    }).pipe(Effect.provide(NodeClient.layer())))
})
