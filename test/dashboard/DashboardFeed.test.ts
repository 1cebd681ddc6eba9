/**
 * The live page's server side over real HTTP: the static page and its files
 * (public, holding no data), the feed behind the token (a snapshot, then
 * changes), its client limit, its keep-alives, and a stalled client that must
 * not slow the monitor.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import * as Http from "node:http"
import * as AdminApi from "../../src/admin/AdminApi.js"
import * as ArrivalStats from "../../src/arrivals/ArrivalStats.js"
import { CandidateList } from "../../src/candidates/CandidateList.js"
import * as DashboardFeed from "../../src/dashboard/DashboardFeed.js"
import * as SlotClock from "../../src/health/SlotClock.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { headData, reorgData } from "../support/chain.js"
import { tick, waitFor } from "../support/wait.js"

const token = "feed-token-0123456789abcdef"

const api = (urls: ReadonlyArray<string>) =>
  AdminApi.layer({ port: 0, token }).pipe(
    Layer.provideMerge(ArrivalStats.layer),
    Layer.provideMerge(HeadMonitor.layerNode(urls, { retry: { initialDelay: "20 seconds" } })),
    Layer.provideMerge(SlotClock.layer({ genesisTime: Math.floor(Date.now() / 1000) - 120, slotDuration: "12 seconds" }))
  )

interface Message {
  readonly event: string
  // The feed's JSON, read loosely: each test looks at the fields it checks.
  readonly data: Record<string, unknown>
}

/** One client of the feed, reading in the background. */
class FeedClient {
  readonly messages: Array<Message> = []
  comments = 0
  ended = false
  private readonly controller = new AbortController()
  private constructor(readonly status: number, readonly body: string) {}

  static async open(url: string, authorization: string | null): Promise<FeedClient> {
    const controller = new AbortController()
    const response = await fetch(`${url}/feed`, {
      headers: authorization === null ? {} : { authorization },
      signal: controller.signal
    })
    if (response.status !== 200 || response.body === null) return new FeedClient(response.status, await response.text())
    const client = new FeedClient(200, "")
    client.controller.signal.addEventListener("abort", () => controller.abort())
    void client.pump(response.body)
    return client
  }

  private async pump(body: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder()
    let buffer = ""
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true })
        let end: number
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          if (block.startsWith(":")) this.comments++
          const event = /^event: (.*)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (event !== undefined && data !== undefined) this.messages.push({ event, data: JSON.parse(data) })
        }
      }
    } catch {
      // Aborted by close().
    }
    this.ended = true
  }

  of(event: string): Array<Message["data"]> {
    return this.messages.filter((m) => m.event === event).map((m) => m.data)
  }

  close(): void {
    this.controller.abort()
  }
}

const open = (authorization: string | null = `Bearer ${token}`) =>
  Effect.flatMap(AdminApi.AdminApi, ({ url }) =>
    Effect.acquireRelease(Effect.promise(() => FeedClient.open(url, authorization)), (client) =>
      Effect.sync(() => client.close())))

const get = (path: string) =>
  Effect.flatMap(AdminApi.AdminApi, ({ url }) =>
    Effect.promise(async () => {
      const response = await fetch(`${url}${path}`)
      return { status: response.status, headers: response.headers, text: await response.text() }
    }))

interface Lane {
  readonly index: number
  readonly url: string
  readonly head: { readonly slot: string } | null
}

describe("the live page's server side", () => {
  it.scopedLive("the page and its files are public and hold no data; the feed needs the token", () =>
    Effect.gen(function*() {
      const a = yield* BeaconNodeServer.make()
      yield* Effect.gen(function*() {
        const page = yield* get("/")
        expect(page.status).toBe(200)
        expect(page.headers.get("content-type")).toContain("text/html")
        expect(page.headers.get("content-security-policy")).toContain("default-src 'none'")
        expect(page.text).toContain(`src="/assets/dashboard.js"`)
        expect(page.text).toContain(`href="/assets/uPlot.min.css"`)
        expect(page.text).not.toContain(token)
        expect(page.text).not.toContain(a.url)
        for (const [name, type, text] of [
          ["uPlot.min.js", "text/javascript", "uPlot"],
          ["uPlot.min.css", "text/css", ".uplot"],
          ["dashboard.js", "text/javascript", "/feed"],
          ["dashboard.css", "text/css", "body"]
        ] as const) {
          const file = yield* get(`/assets/${name}`)
          expect([name, file.status]).toEqual([name, 200])
          expect(file.headers.get("content-type")).toContain(type)
          expect(file.text).toContain(text)
        }
        for (const authorization of [null, "Bearer wrong", token]) {
          const refused = yield* open(authorization)
          expect(refused.status).toBe(401)
          expect(JSON.parse(refused.body)).toMatchObject({ code: 401 })
        }
      }).pipe(Effect.scoped, Effect.provide(api([a.url])))
    }))

  it.scopedLive("a snapshot on connect, then lanes, arrivals and events as they happen; a list change sends a new snapshot", () =>
    Effect.gen(function*() {
      const [a, b] = yield* Effect.all([BeaconNodeServer.make(), BeaconNodeServer.make()])
      // b is given with secrets: the feed shows its display form only.
      const secret = b.url.replace("http://", "http://user:password@") + "/?apikey=SECRET"
      yield* Effect.gen(function*() {
        const client = yield* open()
        expect(client.status).toBe(200)
        const snapshot = yield* waitFor("the snapshot", Effect.sync(() => client.of("snapshot")[0]))
        expect(client.messages[0]!.event).toBe("snapshot")
        const display = `${b.url.replace("http://", "http://user:***@")}?apikey=***`
        expect((snapshot["lanes"] as Array<Lane>).map((lane) => [lane.index, lane.url])).toEqual([[0, a.url], [1, display]])
        expect(snapshot["events"]).toEqual([expect.objectContaining({ kind: "list", version: 0, nodes: [a.url, display] })])
        expect(snapshot["arrivals"]).toMatchObject({ slot_ms: 12_000, window: 64 })

        yield* waitFor("both streams", Effect.sync(() => a.open === 1 && b.open === 1))
        a.send("head", headData(9))
        const lane = yield* waitFor("a's lane with its head", Effect.sync(() =>
          (client.of("lane") as unknown as Array<Lane>).find((l) => l.index === 0 && l.head?.slot === "9")))
        expect(lane.url).toBe(a.url)
        const chain = yield* waitFor("the arrival in a chain message", Effect.sync(() =>
          client.of("chain").find((c) =>
            (c["arrivals"] as { nodes: Array<{ slots: Array<{ slot: string; first: boolean }> }> }).nodes[0]!.slots
              .some((s) => s.slot === "9" && s.first)
          )))
        expect(chain["heads"]).toMatchObject({ consensus: { slot: "9", root: headData(9).block } })

        a.send("head", headData(9, { fork: "b" }))
        a.send("chain_reorg", reorgData(9, 1, "b"))
        const reorg = yield* waitFor("the reorg event", Effect.sync(() => client.of("event").find((e) => e["kind"] === "reorg")))
        expect(reorg).toMatchObject({ slot: 9, depth: 1, index: 0, node: a.url })

        yield* Effect.flatMap(CandidateList, (list) => list.update([secret]))
        const second = yield* waitFor("a new snapshot", Effect.sync(() => client.of("snapshot")[1]))
        expect((second["lanes"] as Array<Lane>).map((l) => l.url)).toEqual([display])
        yield* waitFor("the list event", Effect.sync(() => client.of("event").some((e) => e["version"] === 1)))

        // A client that connects now gets everything so far in its snapshot.
        const late = yield* open()
        const fresh = yield* waitFor("the late snapshot", Effect.sync(() => late.of("snapshot")[0]))
        expect((fresh["events"] as Array<{ kind: string }>).map((e) => e.kind)).toEqual(["list", "reorg", "list"])
        expect(JSON.stringify([...client.messages, ...late.messages])).not.toMatch(/password|SECRET/)
      }).pipe(Effect.scoped, Effect.provide(api([a.url, secret])))
    }))

  it.scopedLive(`at most ${DashboardFeed.maxClients} clients: the next gets a clear 503, a closed one frees its place`, () =>
    Effect.gen(function*() {
      const a = yield* BeaconNodeServer.make()
      yield* Effect.gen(function*() {
        const clients = yield* Effect.forEach(Array.from({ length: DashboardFeed.maxClients }), () => open())
        yield* waitFor("every snapshot", Effect.sync(() => clients.every((c) => c.of("snapshot").length === 1)))
        const refused = yield* open()
        expect(refused.status).toBe(503)
        expect(JSON.parse(refused.body)).toEqual({
          code: 503,
          message: `too many page clients: at most ${DashboardFeed.maxClients} at once; close another tab of the page`
        })
        clients[0]!.close()
        const next = yield* waitFor("the place freed", Effect.map(open(), (client) => client.status === 200 && client))
        yield* waitFor("its snapshot", Effect.sync(() => next.of("snapshot").length === 1))
      }).pipe(Effect.scoped, Effect.provide(api([a.url])))
    }))

  it.scopedLive("a client that stops reading never slows the monitor; the others keep getting changes", () =>
    Effect.gen(function*() {
      const a = yield* BeaconNodeServer.make()
      yield* Effect.gen(function*() {
        const { url } = yield* AdminApi.AdminApi
        // A raw request whose response is never read: its socket fills, the server's writes wait for a drain.
        const stalled = yield* Effect.acquireRelease(
          Effect.async<Http.IncomingMessage>((resume) => {
            Http.get(`${url}/feed`, { headers: { authorization: `Bearer ${token}` } }, (response) => {
              response.pause()
              resume(Effect.succeed(response))
            })
          }),
          (response) => Effect.sync(() => response.destroy())
        )
        expect(stalled.statusCode).toBe(200)
        const reader = yield* open()
        const monitor = yield* HeadMonitor.HeadMonitor
        yield* waitFor("a's stream", Effect.sync(() => a.open === 1))
        const heads = 3_000
        for (let slot = 1; slot <= heads; slot++) {
          a.send("head", headData(slot))
          if (slot % 200 === 0) yield* tick()
        }
        yield* waitFor(
          "every head in the monitor",
          Effect.map(monitor.status, ([status]) => status!.counters.heads === heads),
          30_000
        )
        yield* waitFor(
          "the reading client's last lane",
          Effect.sync(() => (reader.of("lane") as unknown as Array<Lane>).some((l) => l.head?.slot === String(heads))),
          30_000
        )
        expect(stalled.readableLength).toBeGreaterThan(0)
      }).pipe(Effect.scoped, Effect.provide(api([a.url])))
    }), 60_000)

  it.scopedLive("the server stops at once with a page open: the feed ends", () =>
    Effect.gen(function*() {
      const a = yield* BeaconNodeServer.make()
      // The client outlives the server's scope.
      const client = yield* Effect.gen(function*() {
        const client = yield* open()
        yield* waitFor("the snapshot", Effect.sync(() => client.of("snapshot").length === 1))
        return client
      }).pipe(Effect.provide(api([a.url])))
      yield* waitFor("the feed's end", Effect.sync(() => client.ended))
    }))

  it.scoped("a keep-alive comment every 15 s", () =>
    Effect.gen(function*() {
      const a = yield* BeaconNodeServer.make()
      yield* Effect.gen(function*() {
        const client = yield* open()
        yield* waitFor("the snapshot", Effect.sync(() => client.of("snapshot").length === 1))
        yield* tick(50)
        expect(client.comments).toBe(0)
        yield* waitFor("a keep-alive", Effect.zipRight(TestClock.adjust("15 seconds"), Effect.sync(() => client.comments > 0)))
        const before = client.comments
        yield* TestClock.adjust("14 seconds")
        yield* tick(50)
        expect(client.comments).toBe(before)
      }).pipe(Effect.scoped, Effect.provide(api([a.url])))
    }))
})
