import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import * as AdminApi from "../../src/admin/AdminApi.js"
import * as ArrivalsView from "../../src/admin/ArrivalsView.js"
import * as HealthReport from "../../src/admin/HealthReport.js"
import * as ArrivalStats from "../../src/arrivals/ArrivalStats.js"
import * as HeadsView from "../../src/admin/HeadsView.js"
import * as CandidateList from "../../src/candidates/CandidateList.js"
import * as HealthPoller from "../../src/health/HealthPoller.js"
import * as SlotClock from "../../src/health/SlotClock.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { serve, synced } from "../health/beaconApi.js"
import { headData, root } from "../support/chain.js"

const token = "test-token-0123456789"

/** Slot timing of the tests' chains: 12-s slots, slot 9 started 6 s before the tests. */
const slotClock = SlotClock.layer({ genesisTime: Math.floor(Date.now() / 1000) - 9 * 12 - 6, slotDuration: "12 seconds" })

/** The admin API on a free port over a monitor following `urls`. */
const api = (urls: ReadonlyArray<string>) =>
  AdminApi.layer({ port: 0, token }).pipe(
    Layer.provideMerge(ArrivalStats.layer),
    Layer.provideMerge(HeadMonitor.layerNode(urls, { maxCandidates: 4, retry: { initialDelay: "20 seconds" } })),
    Layer.provideMerge(slotClock)
  )

interface Call {
  readonly method?: string
  readonly path?: string
  /** `null` sends no Authorization header. */
  readonly authorization?: string | null
  readonly contentType?: string | null
  readonly body?: string | Uint8Array | ReadableStream<Uint8Array>
}

interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly json: unknown
}

/** One request over real HTTP. */
const call = (request: Call) =>
  Effect.gen(function*() {
    const { url } = yield* AdminApi.AdminApi
    const headers: Record<string, string> = {}
    const authorization = request.authorization === undefined ? `Bearer ${token}` : request.authorization
    if (authorization !== null) headers["authorization"] = authorization
    const contentType = request.contentType === undefined ? "application/json" : request.contentType
    if (contentType !== null && request.body !== undefined) headers["content-type"] = contentType
    return yield* Effect.promise(async (): Promise<Answer> => {
      const response = await fetch(`${url}${request.path ?? AdminApi.updatePath}`, {
        method: request.method ?? "POST",
        headers,
        ...(request.body === undefined ? {} : { body: request.body, duplex: "half" })
      })
      const text = await response.text()
      return { status: response.status, headers: response.headers, text, json: text === "" ? undefined : JSON.parse(text) }
    })
  })

const update = (beaconNodes: ReadonlyArray<string>) => call({ body: JSON.stringify({ beacon_nodes: beaconNodes }) })

const health = call({ method: "GET", path: AdminApi.healthPath })

/** A body streamed in chunks, so that it is sent without a Content-Length. */
const chunked = (text: string, chunkSize = 8192) => {
  const bytes = new TextEncoder().encode(text)
  let offset = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close()
      controller.enqueue(bytes.subarray(offset, offset + chunkSize))
      offset += chunkSize
    }
  })
}

const ErrorBody = Schema.Struct({ code: Schema.Int, message: Schema.String })

describe("AdminApi", () => {
  it.scopedLive("replaces the list and answers it in display form; the monitor follows", () =>
    Effect.gen(function*() {
      const [a, b, c] = yield* Effect.all([BeaconNodeServer.make(), BeaconNodeServer.make(), BeaconNodeServer.make()])
      yield* Effect.gen(function*() {
        const answer = yield* update([`${c.url}/`, b.url.toUpperCase().replace("HTTP://", "http://")])
        expect(answer.status).toBe(200)
        expect(answer.headers.get("content-type")).toContain("application/json")
        expect(answer.json).toEqual({ data: { new_beacon_nodes_list: [c.url, b.url] } })
        const list = yield* CandidateList.CandidateList
        expect((yield* list.get).nodes.map((n) => n.display)).toEqual([c.url, b.url])
        // The answer comes once the monitor follows the new list: health shows it at once.
        const monitor = yield* HeadMonitor.HeadMonitor
        expect(yield* monitor.fiberCount).toBe(2)
        const after = Schema.decodeUnknownSync(HealthReport.HealthReport)((yield* health).json)
        expect(after.data.map((n) => [n.index, n.url])).toEqual([[0, c.url], [1, b.url]])
        // A, removed, has its stream closed by the monitor.
        while (a.closed < a.requests) yield* Effect.sleep(2)
        expect(a.open).toBe(0)
      }).pipe(Effect.provide(api([a.url, b.url])))
    }))

  it.scopedLive("never shows a node's secrets", () =>
    Effect.gen(function*() {
      const a = yield* BeaconNodeServer.make()
      const port = a.url.split(":")[2]
      const secret = `http://operator:hunter2@127.0.0.1:${port}/?apikey=s3cret`
      yield* Effect.gen(function*() {
        const accepted = yield* update([secret])
        expect(accepted.status).toBe(200)
        expect(accepted.json).toEqual({
          data: { new_beacon_nodes_list: [`http://operator:***@127.0.0.1:${port}?apikey=***`] }
        })
        const refused = yield* update([secret, secret.replace("?", "/?")])
        expect(refused.status).toBe(400)
        const healthy = yield* health
        for (const answer of [accepted, refused, healthy]) {
          expect(answer.text).not.toContain("hunter2")
          expect(answer.text).not.toContain("s3cret")
        }
      }).pipe(Effect.provide(api([a.url])))
    }))

  it.scopedLive("heads: the consensus head with its nodes, and each node's distance from it", () =>
    Effect.gen(function*() {
      const [a, b, c] = yield* Effect.all([BeaconNodeServer.make(), BeaconNodeServer.make(), BeaconNodeServer.make()])
      yield* Effect.gen(function*() {
        const empty = yield* call({ method: "GET", path: AdminApi.headsPath })
        expect(Schema.decodeUnknownSync(HeadsView.HeadsResponse)(empty.json).data.consensus).toBeNull()
        while (a.open + b.open + c.open < 3) yield* Effect.sleep(5)
        a.send("head", headData(9))
        yield* Effect.sleep(5)
        b.send("head", headData(9))
        c.send("head", headData(8))
        const monitor = yield* HeadMonitor.HeadMonitor
        while ((yield* monitor.consensus).nodes.length < 3) yield* Effect.sleep(5)
        const answer = yield* call({ method: "GET", path: AdminApi.headsPath })
        expect(answer.status).toBe(200)
        const { data } = Schema.decodeUnknownSync(HeadsView.HeadsResponse)(answer.json)
        expect(data.consensus).toEqual({ slot: 9, root: headData(9).block, count: 2, nodes: [a.url, b.url] })
        expect(data.nodes.map((n) => [n.url, n.agrees, n.slots_behind])).toEqual([
          [a.url, true, 0],
          [b.url, true, 0],
          [c.url, false, 1]
        ])
        expect((yield* call({ method: "GET", path: AdminApi.headsPath, authorization: null })).status).toBe(401)

        // The same heads as arrivals after their slot's start: a saw slot 9 first, b after it, c only slot 8.
        const stats = yield* ArrivalStats.ArrivalStats
        while ((yield* stats.snapshot).nodes.some((n) => n.arrivals === 0)) yield* Effect.sleep(5)
        const arrivals = yield* call({ method: "GET", path: AdminApi.arrivalsPath })
        expect(arrivals.status).toBe(200)
        const figures = Schema.decodeUnknownSync(ArrivalsView.ArrivalsResponse)(arrivals.json).data
        expect(figures).toMatchObject({ slot_ms: 12_000, deadline_ms: 4_000, window: 64 })
        expect(figures.current_slot).toBeGreaterThanOrEqual(9)
        expect(figures.nodes.map((n) => [n.index, n.url, n.slots.map((s) => [s.slot, s.first, s.late])])).toEqual([
          [0, a.url, [[9, true, true]]],
          [1, b.url, [[9, false, true]]],
          [2, c.url, [[8, true, true]]]
        ])
        const [na, nb] = figures.nodes
        expect(na!.slots[0]!.delay_ms).toBeGreaterThanOrEqual(6_000)
        expect(nb!.slots[0]!.behind_first_ms).toBeGreaterThanOrEqual(0)
        expect(na).toMatchObject({ arrivals: 1, first_seen: { window: 1, total: 1 }, late_heads: { window: 1, total: 1 } })
        expect(na!.delay_ms).toEqual({ p50: na!.slots[0]!.delay_ms, p95: na!.slots[0]!.delay_ms })
        expect((yield* call({ method: "GET", path: AdminApi.arrivalsPath, authorization: null })).status).toBe(401)
      }).pipe(Effect.provide(api([a.url, b.url, c.url])))
    }))

  it.scopedLive("health: with the health service running, each node's sync status and the request order", () =>
    Effect.gen(function*() {
      const [far, near] = yield* Effect.all([BeaconNodeServer.make(), BeaconNodeServer.make()])
      const genesisTime = Math.floor(Date.now() / 1000)
      serve(far, () => ({ headSlot: 0, syncDistance: 100 }), { genesisTime })
      serve(near, synced, { genesisTime })
      const urls = [far.url, near.url]
      const withHealth = AdminApi.layer({ port: 0, token }).pipe(
        Layer.provideMerge(HealthPoller.layer()),
        Layer.provideMerge(ArrivalStats.layer),
        Layer.provideMerge(SlotClock.layer({ genesisTime, slotDuration: "12 seconds" })),
        Layer.provideMerge(HeadMonitor.layerNode(urls)),
        Layer.provideMerge(NodeHttpClient.layer)
      )
      yield* Effect.gen(function*() {
        yield* Effect.flatMap(HealthPoller.HealthPoller, (health) => health.refresh)
        const answer = yield* call({ method: "GET", path: AdminApi.healthPath })
        expect(answer.status).toBe(200)
        const decoded = Schema.decodeUnknownSync(HealthReport.HealthReport)(answer.json)
        expect(decoded.data.map((n) => [n.url, n.sync?.state, n.sync?.sync_distance])).toEqual([
          [far.url, "online", "100"],
          [near.url, "online", "0"]
        ])
        // The synced node is asked first although it is second in the list.
        expect(decoded.request_order).toEqual([near.url, far.url])
      }).pipe(Effect.provide(withHealth))
    }))

  it.scopedLive("health: every node in list order with state, counters and latest head", () =>
    Effect.gen(function*() {
      const [a, b, down] = yield* Effect.all([BeaconNodeServer.make(), BeaconNodeServer.make(), BeaconNodeServer.make()])
      yield* Effect.promise(() => down.stop())
      yield* Effect.gen(function*() {
        while (a.open === 0 || b.open === 0) yield* Effect.sleep(5)
        a.send("head", headData(7))
        a.send("head", headData(8))
        b.send("head", headData(8))
        a.send("chain_reorg", {
          slot: "8",
          depth: "1",
          old_head_block: root("block-main-8"),
          new_head_block: root("block-fork-8"),
          execution_optimistic: false
        })
        const monitor = yield* HeadMonitor.HeadMonitor
        // Wait until the monitor has seen all three heads and the stopped node failed once.
        while (true) {
          const statuses = yield* monitor.status
          const heads = statuses.reduce((n, s) => n + s.counters.heads, 0)
          if (heads === 3 && statuses[0]?.lastReorg !== undefined && statuses[2]?.state._tag === "Backoff") break
          yield* Effect.sleep(5)
        }
        const answer = yield* health
        expect(answer.status).toBe(200)
        // The answer is what its schema says.
        const decoded = Schema.decodeUnknownSync(HealthReport.HealthReport)(answer.json)
        expect(decoded.data.map((n) => [n.index, n.url, n.connection.state])).toEqual([
          [0, a.url, "open"],
          [1, b.url, "open"],
          [2, down.url, "backoff"]
        ])
        const [first, second, third] = decoded.data
        expect(first!.counters.heads).toBe(2)
        expect(first!.counters.connects).toBe(1)
        expect(first!.head?.slot).toBe(8)
        expect(first!.head?.root).toBe(root("block-fork-8"))
        expect(first!.head?.source).toBe("reorg")
        expect(first!.last_reorg?.slot).toBe(8)
        expect(first!.last_reorg?.depth).toBe(1)
        expect(first!.counters.chain_reorgs).toBe(1)
        expect(first!.last_activity_at).not.toBeNull()
        expect(first!.topics).toContain("head")
        expect(second!.head?.root).toBe(root("block-main-8"))
        expect(second!.last_reorg).toBeNull()
        expect([first!.lagging, second!.lagging]).toEqual([false, false])
        expect(third!.head).toBeNull()
        expect(third!.lagging).toBe(true)
        expect(third!.counters.disconnects.refused).toBeGreaterThanOrEqual(1)
        const waiting = third!.connection
        if (waiting.state !== "backoff") throw new Error("expected backoff")
        expect(waiting.reason).toBe("refused")
        expect(waiting.attempt).toBeGreaterThanOrEqual(1)
        expect(waiting.next_attempt_at.epochMillis).toBeGreaterThan(waiting.since.epochMillis)
        // On the wire: decimal-string slots and ISO timestamps, snake_case.
        const raw = (answer.json as { data: Array<Record<string, Record<string, unknown>>> }).data
        expect(raw[0]!["head"]!["slot"]).toBe("8")
        expect(raw[0]!["head"]!["received_at"]).toMatch(/^\d{4}-\d\d-\d\dT/)
        expect(raw[2]!["connection"]!["next_attempt_at"]).toMatch(/^\d{4}-\d\d-\d\dT/)
      }).pipe(Effect.provide(api([a.url, b.url, down.url])))
    }))

  it.scopedLive("a body of exactly 64 KiB is accepted", () =>
    Effect.gen(function*() {
      const a = yield* BeaconNodeServer.make()
      yield* Effect.gen(function*() {
        const json = JSON.stringify({ beacon_nodes: [a.url] })
        const answer = yield* call({ body: json + " ".repeat(AdminApi.maxBodyBytes - json.length) })
        expect(answer.status).toBe(200)
      }).pipe(Effect.provide(api([a.url])))
    }))

  describe("refuses bad requests with a JSON error and changes nothing", () => {
    const oversized = JSON.stringify({ beacon_nodes: ["http://a"] }) + " ".repeat(AdminApi.maxBodyBytes)
    const cases: ReadonlyArray<readonly [string, Call, number, string]> = [
      ["no token", { authorization: null, body: "{}" }, 401, "bearer token"],
      ["a wrong token", { authorization: "Bearer wrong", body: "{}" }, 401, "bearer token"],
      ["a wrong token of the same length", { authorization: `Bearer ${token.replace("0", "1")}` }, 401, "bearer"],
      ["the token under another scheme", { authorization: `Basic ${token}` }, 401, "bearer token"],
      ["a bare token", { authorization: token }, 401, "bearer token"],
      ["no token on a health request", { method: "GET", path: AdminApi.healthPath, authorization: null }, 401, "token"],
      ["no token on an unknown path", { path: "/nothing", authorization: null }, 401, "bearer token"],
      ["bad JSON", { body: `{"beacon_nodes": [` }, 400, "not valid JSON"],
      ["an empty body", { body: "" }, 400, "not valid JSON"],
      ["bytes that are not UTF-8", { body: chunked("\u00ff") }, 400, "JSON"],
      ["text/plain", { contentType: "text/plain", body: `{"beacon_nodes": []}` }, 415, "application/json"],
      // Bytes, not a string: fetch would label a string text/plain.
      ["no content type", { contentType: null, body: new TextEncoder().encode(`{"beacon_nodes": []}`) }, 415, "got none"],
      ["a form", { contentType: "application/x-www-form-urlencoded", body: "beacon_nodes=x" }, 415, "content type"],
      ["a missing field", { body: `{"nodes": ["http://a"]}` }, 400, "beacon_nodes is missing"],
      ["a string for the list", { body: `{"beacon_nodes": "http://a"}` }, 400, "beacon_nodes has the wrong type"],
      ["a number in the list", { body: `{"beacon_nodes": ["http://a", 5]}` }, 400, "beacon_nodes[1] has the wrong"],
      ["an array for the body", { body: `["http://a"]` }, 400, "the body has the wrong type"],
      ["null", { body: "null" }, 400, "the body has the wrong type"],
      ["PUT", { method: "PUT", body: `{"beacon_nodes": ["http://a"]}` }, 405, "PUT is not allowed"],
      ["GET on update", { method: "GET" }, 405, "GET is not allowed"],
      ["DELETE on health", { method: "DELETE", path: AdminApi.healthPath }, 405, "not allowed"],
      ["POST on health", { path: AdminApi.healthPath, body: `{"beacon_nodes": ["http://a"]}` }, 405, "not allowed"],
      ["an unknown path", { method: "GET", path: "/lighthouse/beacon/nodes" }, 404, "no route"],
      ["no token on the arrivals", { method: "GET", path: AdminApi.arrivalsPath, authorization: null }, 401, "token"],
      ["no token on the page's feed", { method: "GET", path: "/feed", authorization: null }, 401, "token"],
      ["a POST to the page", { path: "/" }, 404, "no route"],
      ["an asset that does not exist", { method: "GET", path: "/assets/nothing.js" }, 404, "no route"],
      ["a body over 64 KiB", { body: oversized }, 413, "larger than 65536 bytes"],
      ["a chunked body over 64 KiB", { body: chunked(oversized) }, 413, "larger than 65536 bytes"],
      ["an empty list", { body: `{"beacon_nodes": []}` }, 400, "the list is empty"],
      ["a non-http scheme", { body: `{"beacon_nodes": ["http://a", "ftp://b"]}` }, 400, "entry 1 (ftp://b)"],
      ["a bad URL", { body: `{"beacon_nodes": ["not a url"]}` }, 400, "entry 0 (not a url): not an absolute URL"],
      ["a node twice", { body: `{"beacon_nodes": ["http://A:80/", "http://a"]}` }, 400, "same node as entry 0"],
      ["more than the maximum", {
        body: JSON.stringify({ beacon_nodes: ["http://a", "http://b", "http://c", "http://d", "http://e"] })
      }, 400, "more than the maximum of 4"]
    ]

    it.scopedLive("each of them", () =>
      Effect.gen(function*() {
        const a = yield* BeaconNodeServer.make()
        yield* Effect.gen(function*() {
          const list = yield* CandidateList.CandidateList
          const before = yield* list.get
          for (const [name, request, status, message] of cases) {
            const answer = yield* call(request)
            expect([name, answer.status]).toEqual([name, status])
            expect(answer.headers.get("content-type"), name).toContain("application/json")
            const body = Schema.decodeUnknownSync(ErrorBody)(answer.json)
            expect(body.code, name).toBe(status)
            expect(body.message, name).toContain(message)
            expect(yield* list.get, name).toBe(before)
          }
          expect(a.requests).toBe(1)
        }).pipe(Effect.provide(api([a.url])))
      }))

    it.scopedLive("with the details a client needs: entries, Allow, WWW-Authenticate", () =>
      Effect.gen(function*() {
        const a = yield* BeaconNodeServer.make()
        yield* Effect.gen(function*() {
          const invalid = yield* update(["http://a", "ftp://x.example", "http://A/"])
          expect(invalid.json).toEqual({
            code: 400,
            message: expect.stringContaining("invalid beacon node list"),
            invalid_entries: [
              { index: 1, entry: "ftp://x.example", reason: "scheme must be http or https, got ftp" },
              { index: 2, entry: "http://a", reason: "the same node as entry 0" }
            ]
          })
          const wrongMethod = yield* call({ method: "PUT", body: "{}" })
          expect(wrongMethod.headers.get("allow")).toBe("POST")
          const noToken = yield* call({ authorization: null })
          expect(noToken.headers.get("www-authenticate")).toBe("Bearer")
        }).pipe(Effect.provide(api([a.url])))
      }))
  })
})
