import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import * as CandidateList from "../../src/candidates/CandidateList.js"
import * as MonitorConfig from "../../src/config/MonitorConfig.js"
import * as HealthPoller from "../../src/health/HealthPoller.js"
import * as SlotClock from "../../src/health/SlotClock.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import type { BeaconNode } from "../../src/node/BeaconNode.js"
import { firstSuccess, firstSuccessOrFallback } from "../../src/routing/FirstSuccess.js"
import { firstSuccessIn } from "../../src/requests/InOrder.js"
import { getJson } from "../../src/requests/NodeRequest.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import * as NodeStreamTransport from "../../src/stream/NodeStreamTransport.js"
import { headData } from "../support/chain.js"
import { tick } from "../support/wait.js"
import { holesky, serve, synced } from "../health/beaconApi.js"
import { captureLogs } from "../health/logs.js"

type Server = BeaconNodeServer.BeaconNodeServer

const path = "/eth/v1/node/version"
const Version = Schema.Struct({ data: Schema.Struct({ version: Schema.String }) })
const ask = (node: BeaconNode) => Effect.map(getJson(node, path, Version), (body) => body.data.version)

/**
 * `count` servers that pass health checks; `/eth/v1/node/version` answers with the server's name while `online[i]`,
 * else 503. Every call is recorded in `calls`, in order.
 */
const nodes = (online: ReadonlyArray<boolean>) =>
  Effect.gen(function*() {
    const calls: Array<string> = []
    const servers = yield* Effect.all(online.map(() => BeaconNodeServer.make()))
    servers.forEach((server, i) => {
      const name = String.fromCharCode(65 + i)
      serve(server, synced)
      server.route(path, () => {
        calls.push(name)
        return online[i] ? { status: 200, body: { data: { version: name } } } : { status: 503, body: { code: 503 } }
      })
    })
    return { servers, calls }
  })

/** Runs `body` with health (polled once first) and the candidate list over real HTTP. */
const routed = <A, E, R>(servers: ReadonlyArray<Server>, body: Effect.Effect<A, E, R>) =>
  HealthPoller.HealthPoller.pipe(
    Effect.flatMap((health) => health.refresh),
    Effect.zipRight(body),
    Effect.provide(
      HealthPoller.layer().pipe(
        Layer.provideMerge(CandidateList.layer(servers.map((s) => s.url))),
        Layer.provideMerge(SlotClock.layer({ genesisTime: 0, slotDuration: "12 seconds" })),
        Layer.provide(MonitorConfig.layer()),
        Layer.provideMerge(NodeHttpClient.layer)
      )
    )
  )

describe("firstSuccess", () => {
  it.scoped("tries nodes in order: offline, offline, online → the third answers, each offline node asked once", () =>
    Effect.gen(function*() {
      const { calls, servers } = yield* nodes([false, false, true])
      const answer = yield* routed(servers, firstSuccess(ask))
      expect(answer).toBe("C")
      expect(calls).toEqual(["A", "B", "C"])
    }))

  it.scoped("all offline: a second pass in the same order, then one error listing every attempt", () =>
    Effect.gen(function*() {
      const { calls, servers } = yield* nodes([false, false, false])
      const error = yield* routed(servers, Effect.flip(firstSuccess(ask)))
      expect(calls).toEqual(["A", "B", "C", "A", "B", "C"])
      expect(error._tag).toBe("AllNodesFailed")
      expect(error.attempts.map((a) => [a.node, a.round, a.cause.status])).toEqual([
        [servers[0]!.url, "first", 503],
        [servers[1]!.url, "first", 503],
        [servers[2]!.url, "first", 503],
        [servers[0]!.url, "second", 503],
        [servers[1]!.url, "second", 503],
        [servers[2]!.url, "second", 503]
      ])
      expect(error.message).toContain(`${servers[2]!.url} (second): ${servers[2]!.url} ${path}: status (HTTP 503)`)
    }))

  it.scoped("stopped nodes: every attempt listed with display URLs only, never the secret", () =>
    Effect.gen(function*() {
      const servers = yield* Effect.all([BeaconNodeServer.make(), BeaconNodeServer.make()])
      yield* Effect.forEach(servers, (s) => Effect.promise(() => s.stop()))
      const urls = servers.map((s) => `${s.url}/?apikey=hunter2`)
      const error = yield* firstSuccess(ask).pipe(
        Effect.flip,
        Effect.provide(
          HealthPoller.layer().pipe(
            Layer.provideMerge(CandidateList.layer(urls)),
            Layer.provide(SlotClock.layer({ genesisTime: 0, slotDuration: "12 seconds" })),
            Layer.provide(MonitorConfig.layer()),
            Layer.provideMerge(NodeHttpClient.layer)
          )
        )
      )
      expect(error.attempts.map((a) => [a.node, a.round, a.cause.reason])).toEqual([
        [`${servers[0]!.url}?apikey=***`, "first", "refused"],
        [`${servers[1]!.url}?apikey=***`, "first", "refused"],
        [`${servers[0]!.url}?apikey=***`, "second", "refused"],
        [`${servers[1]!.url}?apikey=***`, "second", "refused"]
      ])
      expect(error.message).not.toContain("hunter2")
      expect(JSON.stringify(error)).not.toContain("hunter2")
    }))

  it.scoped("follows health order: a synced node before an earlier one that lags; other networks never asked", () =>
    Effect.gen(function*() {
      const { calls, servers } = yield* nodes([false, false, true])
      serve(servers[0]!, () => ({ headSlot: 0, syncDistance: 30 }))
      serve(servers[1]!, synced, { spec: holesky })
      const answer = yield* routed(servers, firstSuccess(ask))
      expect(answer).toBe("C")
      expect(calls).toEqual(["C"])
      const error = yield* routed([servers[1]!], Effect.flip(firstSuccess(ask)))
      // Alone, the node's network is the expected one.
      expect(error.attempts).toHaveLength(2)
    }))

  it.scoped("asks nodes the head monitor reports lagging after the up-to-date ones", () =>
    Effect.gen(function*() {
      const { calls, servers } = yield* nodes([true, true, true])
      const [a, b, c] = servers
      const body = Effect.gen(function*() {
        const monitor = yield* HeadMonitor.HeadMonitor
        while (a!.open + b!.open + c!.open < 3) yield* tick(5)
        a!.send("head", headData(5))
        for (const server of [b!, c!]) server.send("head", headData(8))
        while ((yield* monitor.status)[0]?.lagging !== true) yield* tick(5)
        expect(yield* firstSuccess(ask)).toBe("B")
        expect(calls).toEqual(["B"])
      })
      yield* routed(servers, body).pipe(
        Effect.provide(HeadMonitor.layer.pipe(
          Layer.provideMerge(CandidateList.layer(servers.map((s) => s.url))),
          Layer.provideMerge(MonitorConfig.layer()),
          Layer.provide(NodeHttpClient.layer),
          Layer.provide(NodeStreamTransport.layer)
        ))
      )
    }))

  it.scoped("firstSuccessIn uses the caller's order", () =>
    Effect.gen(function*() {
      const { calls, servers } = yield* nodes([true, false])
      const list = yield* Effect.provide(
        Effect.flatMap(CandidateList.CandidateList, (l) => l.get),
        CandidateList.layer(servers.map((s) => s.url)).pipe(Layer.provide(MonitorConfig.layer()))
      )
      const answer = yield* firstSuccessIn([...list.nodes].reverse(), ask).pipe(Effect.provide(NodeHttpClient.layer))
      expect(answer).toBe("A")
      expect(calls).toEqual(["B", "A"])
    }))
})

describe("firstSuccessOrFallback", () => {
  it.scoped("preferred node succeeds: no other node is asked", () =>
    Effect.gen(function*() {
      const { calls, servers } = yield* nodes([true, true, true])
      const preferred = yield* nodeOf(servers, 2)
      const answer = yield* routed(servers, firstSuccessOrFallback(preferred, ask))
      expect(answer).toBe("C")
      expect(calls).toEqual(["C"])
    }))

  it.scoped("preferred node fails: the reason is logged and the others are tried best first, it again only in the second pass", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const { calls, servers } = yield* nodes([false, false, true])
      const preferred = yield* nodeOf(servers, 1)
      const answer = yield* routed(servers, firstSuccessOrFallback(preferred, ask)).pipe(Effect.provide(logs.layer))
      expect(answer).toBe("C")
      expect(calls).toEqual(["B", "A", "C"])
      expect(logs.lines).toContainEqual({
        level: "WARN",
        message: "preferred node failed, falling back",
        annotations: { node: servers[1]!.url, reason: `${servers[1]!.url} ${path}: status (HTTP 503)` }
      })

      calls.length = 0
      const error = yield* routed(servers.slice(0, 2), Effect.flip(firstSuccessOrFallback(preferred, ask)))
      // Every node, the preferred one included, is asked at most twice.
      expect(calls).toEqual(["B", "A", "A", "B"])
      expect(error.attempts.map((a) => a.round)).toEqual(["preferred", "first", "second", "second"])
    }))

  it.scoped("preferred node no longer in the list: the reason is logged and the candidates are used", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const { calls, servers } = yield* nodes([true, true, true])
      const removed = yield* nodeOf(servers, 2)
      const answer = yield* routed(
        servers,
        Effect.gen(function*() {
          yield* (yield* CandidateList.CandidateList).update([servers[0]!.url, servers[1]!.url])
          return yield* firstSuccessOrFallback(removed, ask)
        })
      ).pipe(Effect.provide(logs.layer))
      expect(answer).toBe("A")
      expect(calls).toEqual(["A"])
      expect(logs.lines).toContainEqual({
        level: "WARN",
        message: "preferred node is no longer a candidate, falling back",
        annotations: { node: servers[2]!.url, reason: "removed from the candidate list" }
      })
    }))
})

/** The node of server `i`, as the candidate list has it. */
const nodeOf = (servers: ReadonlyArray<Server>, i: number) =>
  Effect.provide(
    Effect.map(Effect.flatMap(CandidateList.CandidateList, (l) => l.get), (list) => list.nodes[i]!),
    CandidateList.layer(servers.map((s) => s.url)).pipe(Layer.provide(MonitorConfig.layer()))
  )
