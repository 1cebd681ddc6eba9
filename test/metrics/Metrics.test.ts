/**
 * /metrics over real HTTP, fed by a real monitor following real loopback nodes.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import * as ArrivalStats from "../../src/arrivals/ArrivalStats.js"
import { CandidateList } from "../../src/candidates/CandidateList.js"
import * as SlotClock from "../../src/health/SlotClock.js"
import * as Metrics from "../../src/metrics/Metrics.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import * as BeaconNode from "../../src/node/BeaconNode.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { headData } from "../support/chain.js"
import { waitFor } from "../support/wait.js"

const get = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url)
    return { status: response.status, type: response.headers.get("content-type"), text: await response.text() }
  })

/** The value of one sample, by its exact name and labels as written. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

/**
 * The rules of the Prometheus text format that a scraper relies on: every
 * sample line is `name{labels} value`, every family has one HELP and one TYPE
 * before its samples, label values are quoted and escaped, empty lines are ignored.
 */
const checkExposition = (text: string) => {
  const name = "[a-zA-Z_:][a-zA-Z0-9_:]*"
  const labels = `\\{(${"[a-zA-Z_][a-zA-Z0-9_]*"}="([^"\\\\\\n]|\\\\[\\\\"n])*",?)*\\}`
  // Values as Go's ParseFloat reads them: NaN and Inf in any case (prom-client writes "Nan").
  const value = "(-?[0-9.]+(e[+-]?[0-9]+)?|[Nn][Aa][Nn]|[+-][Ii][Nn][Ff])"
  const sampleLine = new RegExp(`^(${name})(${labels})? ${value}( -?[0-9]+)?$`)
  const typed = new Map<string, string>()
  const helped = new Set<string>()
  expect(text.endsWith("\n")).toBe(true)
  for (const line of text.trimEnd().split("\n")) {
    const help = /^# HELP (\S+) .*$/.exec(line)
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line)
    if (line === "") continue // empty lines are allowed and ignored
    if (help) {
      expect(helped.has(help[1]!)).toBe(false)
      helped.add(help[1]!)
    } else if (type) {
      expect(typed.has(type[1]!)).toBe(false)
      typed.set(type[1]!, type[2]!)
    } else {
      const match = sampleLine.exec(line)
      expect(match === null ? line : "ok").toBe("ok") // shows the bad line
      const family = match![1]!.replace(/_(bucket|sum|count)$/, "")
      expect(typed.has(match![1]!) || typed.get(family) === "histogram", line).toBe(true)
    }
  }
}

describe("Metrics", () => {
  it.scopedLive("per-node counters, state, head slot and head delay, labelled by display URL only", () =>
    Effect.gen(function*() {
      const [a, b] = yield* Effect.all([BeaconNodeServer.make(), BeaconNodeServer.make()])
      const secret = `http://user:password@127.0.0.1:${b.port}/?apikey=SECRET`
      const display = { a: BeaconNode.unsafeParse(a.url).display, b: BeaconNode.unsafeParse(secret).display }
      const context = yield* Layer.build(
        Metrics.layerServer({ port: 0 }).pipe(
          Layer.provideMerge(ArrivalStats.layer),
          Layer.provideMerge(HeadMonitor.layerNode([a.url, secret])),
          // Hour-long slots, slot 3 starting in 6 minutes: slots 1 and 2 arrive late (1.9 and 0.9 slots after
          // their start), slot 3 early (counted at 0).
          Layer.provideMerge(
            SlotClock.layer({ genesisTime: Math.round(Date.now() / 1000 - 2.9 * 3600), slotDuration: "1 hour" })
          )
        )
      )
      const metricsUrl = `${Context.get(context, Metrics.MetricsServer).url}/metrics`
      const monitor = Context.get(context, HeadMonitor.HeadMonitor)
      const heads = (node: string) =>
        Effect.map(monitor.status, (all) => all.find((s) => s.node.display === node)?.counters.heads ?? 0)

      yield* waitFor("both streams", Effect.sync(() => a.open === 1 && b.open === 1))
      a.send("head", headData(1))
      yield* waitFor("a's head", Effect.map(heads(display.a), (n) => n === 1))
      b.send("head", headData(1))
      b.send("head", headData(2))
      yield* waitFor("b's heads", Effect.map(heads(display.b), (n) => n === 2))
      a.send("head", headData(2))
      a.send("head", headData(3, { optimistic: true }))
      a.sendRaw("event: head\ndata: {not json\n\n", "head")
      yield* waitFor(
        "a's invalid event",
        Effect.map(monitor.status, (all) => all[0]!.counters.invalidEvents === 1)
      )
      a.endStreams()
      // A real node answers with its first event: the new stream opens with the next head.
      yield* waitFor("a's reconnect", Effect.sync(() => a.requests === 2 && a.open === 1))
      a.send("head", headData(3))
      const p = Metrics.prefix
      const index = (node: string) => (node === display.a ? 0 : 1)
      const at = (node: string, extra = "") => `{index="${index(node)}",node="${node}"${extra}}`
      // The histogram is fed by its own subscriber: scrape until it has seen every head.
      const scrape = yield* waitFor(
        "every head in the metrics",
        Effect.map(get(metricsUrl), (answer) =>
          sample(answer.text, `${p}node_head_delay_seconds_count${at(display.a)}`) === 3 &&
          sample(answer.text, `${p}node_head_delay_seconds_count${at(display.b)}`) === 2 &&
          sample(answer.text, `${p}node_connects_total${at(display.a)}`) === 2 &&
          sample(answer.text, `${p}node_head_arrival_seconds_count${at(display.a)}`) === 3 &&
          sample(answer.text, `${p}node_head_arrival_seconds_count${at(display.b)}`) === 2 &&
          answer)
      )
      expect(scrape.status).toBe(200)
      expect(scrape.type).toContain("text/plain")
      checkExposition(scrape.text)
      expect(scrape.text).not.toContain("password")
      expect(scrape.text).not.toContain("SECRET")
      expect(sample(scrape.text, `${p}node_connects_total${at(display.a)}`)).toBe(2)
      expect(sample(scrape.text, `${p}node_connects_total${at(display.b)}`)).toBe(1)
      expect(sample(scrape.text, `${p}node_disconnects_total${at(display.a, ',reason="ended"')}`)).toBe(1)
      expect(sample(scrape.text, `${p}node_disconnects_total${at(display.b, ',reason="ended"')}`)).toBe(0)
      expect(sample(scrape.text, `${p}node_stalls_total${at(display.a)}`)).toBe(0)
      expect(sample(scrape.text, `${p}node_invalid_events_total${at(display.a)}`)).toBe(1)
      expect(sample(scrape.text, `${p}node_optimistic_heads_skipped_total${at(display.a)}`)).toBe(1)
      expect(sample(scrape.text, `${p}node_heads_total${at(display.a)}`)).toBe(3)
      expect(sample(scrape.text, `${p}node_head_slot${at(display.b)}`)).toBe(2)
      expect(sample(scrape.text, `${p}node_state${at(display.b, ',state="Open"')}`)).toBe(1)
      expect(sample(scrape.text, `${p}node_state${at(display.b, ',state="Backoff"')}`)).toBe(0)
      // a saw slots 1 and 3 first, b slot 2: a delay of 0 each time, and one behind the other.
      expect(sample(scrape.text, `${p}node_head_delay_seconds_count${at(display.a)}`)).toBe(3)
      expect(sample(scrape.text, `${p}node_head_delay_seconds_count${at(display.b)}`)).toBe(2)
      for (const node of [display.a, display.b]) {
        expect(sample(scrape.text, `${p}node_head_delay_seconds_bucket{le="0.001",index="${index(node)}",node="${node}"}`)).toBeGreaterThanOrEqual(1)
      }
      // Arrivals: a saw slots 1 and 3 first, b slot 2; slots 1 and 2 were late.
      expect(sample(scrape.text, `${p}node_first_seen_total${at(display.a)}`)).toBe(2)
      expect(sample(scrape.text, `${p}node_first_seen_total${at(display.b)}`)).toBe(1)
      expect(sample(scrape.text, `${p}node_late_heads_total${at(display.a)}`)).toBe(2)
      expect(sample(scrape.text, `${p}node_late_heads_total${at(display.b)}`)).toBe(2)
      // Buckets are fractions of the slot: the first is 1/24 of an hour.
      expect(sample(scrape.text, `${p}node_head_arrival_seconds_bucket{le="150",index="0",node="${display.a}"}`)).toBe(1)
      expect(sample(scrape.text, `${p}node_head_arrival_seconds_bucket{le="+Inf",index="0",node="${display.a}"}`)).toBe(3)
      expect(sample(scrape.text, `${p}node_fibers`)).toBe(2)
      expect(sample(scrape.text, `${p}candidate_list_updates_total`)).toBe(0)
      expect(sample(scrape.text, `${p}candidate_list_nodes`)).toBe(2)
      expect(scrape.text).toContain("process_cpu_user_seconds_total")

      // A node that leaves the list leaves the metrics.
      yield* Context.get(context, CandidateList).update([a.url])
      yield* monitor.awaitReconciled
      const after = yield* get(metricsUrl)
      checkExposition(after.text)
      expect(after.text).not.toContain(display.b)
      expect(sample(after.text, `${p}node_head_arrival_seconds_count${at(display.a)}`)).toBe(3)
      expect(sample(after.text, `${p}node_fibers`)).toBe(1)
      expect(sample(after.text, `${p}candidate_list_updates_total`)).toBe(1)
      expect(sample(after.text, `${p}node_head_delay_seconds_count${at(display.a)}`)).toBe(3)

      expect((yield* get(metricsUrl.replace("/metrics", "/other"))).status).toBe(404)
    }))
  it.scopedLive("two entries that differ only in a secret are two series", () =>
    Effect.gen(function*() {
      const server = yield* BeaconNodeServer.make()
      const urls = [1, 2].map((n) => server.url.replace("http://", `http://user:key${n}@`))
      const display = BeaconNode.unsafeParse(urls[0]!).display
      expect(BeaconNode.unsafeParse(urls[1]!).display).toBe(display)
      const context = yield* Layer.build(
        Metrics.layer.pipe(
          Layer.provideMerge(ArrivalStats.layer),
          Layer.provideMerge(HeadMonitor.layerNode(urls)),
          Layer.provideMerge(SlotClock.layer({ genesisTime: 0, slotDuration: "12 seconds" }))
        )
      )
      const metrics = Context.get(context, Metrics.Metrics)
      const monitor = Context.get(context, HeadMonitor.HeadMonitor)
      yield* waitFor("both streams", Effect.sync(() => server.open === 2))
      server.send("head", headData(1))
      yield* waitFor("both heads", Effect.map(monitor.status, (all) => all.every((s) => s.counters.heads === 1)))
      const text = yield* metrics.scrape
      checkExposition(text)
      expect(text).not.toContain("key1")
      expect(text).not.toContain("key2")
      for (const index of [0, 1]) {
        expect(sample(text, `${Metrics.prefix}node_heads_total{index="${index}",node="${display}"}`)).toBe(1)
        expect(sample(text, `${Metrics.prefix}node_state{index="${index}",node="${display}",state="Open"}`)).toBe(1)
      }
    }))
})
