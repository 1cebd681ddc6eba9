/**
 * The heads asked on connect, over real sockets: at most 8 in flight, the others waiting their turn and asked as
 * answers come; a node removed from the list while its ask waits is never asked, and one whose ask is in flight
 * has it aborted. An ask goes with its request: one cut short by a 400 to the pair is asked again with `head` alone.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Random } from "effect"
import type * as Http from "node:http"
import { CandidateList } from "../../src/candidates/CandidateList.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import { headData, headerAnswer } from "../support/chain.js"
import { serveRaw } from "../support/rawServer.js"
import { tick, waitFor } from "../support/wait.js"

/** Asks in flight at most (`HeadMonitor`'s bound). */
const atOnce = 8
const nodes = atOnce + 5
const headPath = /^\/(n\d+)\/eth\/v1\/beacon\/headers\/head$/
const eventsPath = /^\/n\d+\/eth\/v1\/events$/

/**
 * One server playing `nodes` nodes, each under its own base path: their streams open and stay silent, and their
 * heads asked on connect are held unanswered until `answer` lets some go.
 */
const serve = Effect.gen(function*() {
  /** Node → its held ask. */
  const held = new Map<string, Http.ServerResponse>()
  /** Every node asked, in order, and those whose ask was closed before its answer. */
  const asked: Array<string> = []
  const aborted: Array<string> = []
  const server = yield* serveRaw((request, response) => {
    const path = (request.url ?? "").split("?")[0]!
    const head = headPath.exec(path)
    if (head !== null) {
      const node = head[1]!
      asked.push(node)
      held.set(node, response)
      response.once("close", () => {
        if (!response.writableEnded) aborted.push(node)
        held.delete(node)
      })
    } else if (eventsPath.test(path)) {
      response.writeHead(200, { "content-type": "text/event-stream" })
      response.flushHeaders()
    } else {
      response.writeHead(404, { "content-type": "application/json" }).end(`{"code":404}`)
    }
  })
  return {
    urls: Array.from({ length: nodes }, (_, i) => `${server.url}/n${i}`),
    held,
    asked,
    aborted,
    /** Answers `count` held asks (404: no seed, which changes nothing else). */
    answer: (count: number) => {
      for (const response of [...held.values()].slice(0, count)) {
        response.writeHead(404, { "content-type": "application/json" }).end(`{"code":404}`)
      }
    }
  }
})

describe("heads asked on connect", () => {
  it.scopedLive("8 at once, the others in their turn; a node removed while waiting is never asked, one in flight aborted", () =>
    Effect.gen(function*() {
      const server = yield* serve
      yield* Effect.gen(function*() {
        const monitor = yield* HeadMonitor.HeadMonitor
        yield* monitor.awaitReconciled
        yield* waitFor("8 asks", Effect.sync(() => server.held.size === atOnce))
        // Nothing more while none is answered.
        yield* tick(200)
        expect(server.asked.length).toBe(atOnce)
        server.answer(2)
        yield* waitFor("2 more asks", Effect.sync(() => server.asked.length === atOnce + 2))
        yield* tick(100)
        expect([server.asked.length, server.held.size]).toEqual([atOnce + 2, atOnce])

        // Keep one node whose ask is in flight, and every node never asked yet but the last.
        const name = (url: string) => url.split("/").pop()!
        const inFlight = [...server.held.keys()][0]!
        const waiting = server.urls.filter((url) => !server.asked.includes(name(url)))
        expect(waiting.length).toBe(3)
        const kept = [server.urls.find((url) => name(url) === inFlight)!, ...waiting.slice(0, -1)]
        const list = yield* CandidateList
        yield* list.update(kept)
        yield* monitor.awaitReconciled
        // The asks of the removed nodes that were in flight are aborted: their places go to those waiting.
        yield* waitFor("the removed nodes' asks aborted", Effect.sync(() => server.aborted.length === atOnce - 1))
        yield* waitFor("the kept nodes asked", Effect.sync(() => server.asked.length === atOnce + 4))
        yield* tick(100)
        // The last node, removed while it waited, was never asked.
        expect(server.asked).not.toContain(name(waiting.at(-1)!))
        expect(server.asked.length).toBe(atOnce + 4)
        expect(server.held.size).toBe(3)
      }).pipe(
        Effect.provide(HeadMonitor.layerNode(server.urls, { slotDuration: "12 seconds", maxCandidates: 64 })),
        Effect.withRandom(Random.fixed([0.5]))
      )
    }))

  it.scopedLive("a pair refused with 400 before the head came: asked again with head alone, and the seed comes", () =>
    Effect.gen(function*() {
      const asks: Array<"answered" | "aborted"> = []
      let pair: Http.ServerResponse | undefined
      let firstAsk = false
      // The 400 goes once the first ask is in flight, so that it ends the request the ask went with.
      const refuse = () => {
        if (pair !== undefined && firstAsk) pair.writeHead(400, { "content-type": "application/json" }).end(`{"code":400}`)
      }
      const server = yield* serveRaw((request, response) => {
        const url = new URL(request.url ?? "/", "http://127.0.0.1")
        if (url.pathname === "/eth/v1/events") {
          if (url.searchParams.getAll("topics").includes("chain_reorg")) {
            pair = response
            return refuse()
          }
          response.writeHead(200, { "content-type": "text/event-stream" })
          response.flushHeaders()
        } else if (url.pathname === "/eth/v1/beacon/headers/head") {
          if (firstAsk) {
            asks.push("answered")
            response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(headerAnswer(41)))
            return
          }
          // The first ask is never answered: only the 400's end of its request ends it.
          firstAsk = true
          response.once("close", () => asks.push("aborted"))
          refuse()
        } else {
          response.writeHead(404, { "content-type": "application/json" }).end(`{"code":404}`)
        }
      })
      yield* Effect.gen(function*() {
        const monitor = yield* HeadMonitor.HeadMonitor
        const seeded = yield* waitFor("the seed", Effect.map(monitor.status, ([status]) => status?.head), 10_000)
        expect(seeded).toMatchObject({ slot: 41, block: headData(41).block, source: "seed" })
        // The server may hear the second ask before the first one's close: two connections, no order between them.
        yield* waitFor("both asks' ends", Effect.sync(() => asks.length === 2))
        expect([...asks].sort()).toEqual(["aborted", "answered"])
      }).pipe(
        Effect.provide(HeadMonitor.layerNode([server.url], { slotDuration: "12 seconds" })),
        Effect.withRandom(Random.fixed([0.5]))
      )
    }))
})
