/**
 * Latency: every node writes a head at the same instant; the time from each
 * server write to the consumer receiving the event, through the monitor
 * (`HeadMonitor.subscribe`), through the npm `eventsource` client (one per
 * node, `JSON.parse` per event) and through bare `node:http` readers, measured
 * in one process against the same in-process server. Run with 100 nodes (`1.`)
 * and with 5 (`1b.`, the usual validator set-up).
 */
import { EventSource } from "eventsource"
import * as BareReader from "./BareReader.js"
import * as MonitorClient from "./MonitorClient.js"
import { MultiNodeServer } from "./MultiNodeServer.js"
import { range, type Row, row, type ScenarioResult, sleep, waitFor } from "./Report.js"
import { percentile, ratios, summarize } from "./Stats.js"

const runs = 7
/** Targets: p50 and p99 at most this many times the bare reader's. */
const bareTarget = (nodes: number) => nodes >= 100 ? 1.25 : 1.1

type Client = "ours" | "eventsource" | "bare"
interface Run {
  readonly p50: number
  readonly p99: number
}

export const run = async (arg?: string): Promise<ScenarioResult> => {
  const nodes = Number(arg ?? 100)
  // About 2,000 samples per run whatever the number of nodes, so that p99 is not the maximum.
  const rounds = Math.max(20, Math.ceil(2_000 / nodes))
  const server = new MultiNodeServer()
  await server.listen()
  const names = { ours: range(nodes).map((i) => `m${i}`), eventsource: range(nodes).map((i) => `e${i}`), bare: range(nodes).map((i) => `b${i}`) }
  const nameOf = new Map(names.ours.map((name) => [server.url(name), name]))

  const sentAt = new Map<string, number>()
  let samples: Array<number> = []
  let pending = 0
  let roundDone = () => {}
  const receive = (name: string, slot: number) => {
    const at = performance.now()
    const sent = sentAt.get(`${name}|${slot}`)
    if (sent === undefined) return
    samples.push(at - sent)
    if (--pending === 0) roundDone()
  }

  const monitor = await MonitorClient.start(names.ours.map((name) => server.url(name)), {}, (event) =>
    receive(nameOf.get(event.node.id)!, event.slot))
  const sources = names.eventsource.map((name) => {
    const source = new EventSource(`${server.url(name)}/eth/v1/events?topics=head`)
    source.addEventListener("head", (event) => receive(name, Number(JSON.parse(event.data).slot)))
    return source
  })
  const readers = names.bare.map((name) => BareReader.open(server.url(name), (data) => receive(name, Number(data.slot))))
  await waitFor(() => server.open === 3 * nodes, 10_000, "all streams open")

  const round = async (of: ReadonlyArray<string>) => {
    const slot = ++server.slot
    pending = of.length
    const done = new Promise<void>((resolve) => roundDone = resolve)
    for (const name of of) sentAt.set(`${name}|${slot}`, server.send(name, slot))
    await Promise.race([done, sleep(5_000).then(() => Promise.reject(new Error("round timed out")))])
    sentAt.clear()
    await sleep(10)
  }
  const measure = async (client: Client): Promise<Run> => {
    samples = []
    for (let r = 0; r < rounds; r++) await round(names[client])
    return { p50: percentile(samples, 50), p99: percentile(samples, 99) }
  }

  const clients: ReadonlyArray<Client> = ["ours", "eventsource", "bare"]
  // Warm-up: the JIT, the sockets and the monitor's caches.
  for (const client of clients) await measure(client)
  const results: Record<Client, Array<Run>> = { ours: [], eventsource: [], bare: [] }
  for (let i = 0; i < runs; i++) {
    // Rotate the order, so that no client always runs on a freshly collected heap.
    for (let k = 0; k < clients.length; k++) {
      const client = clients[(i + k) % clients.length]!
      results[client].push(await measure(client))
    }
  }
  for (const reader of readers) reader.close()
  for (const source of sources) source.close()
  await monitor.close()
  await server.stop()

  const of = (client: Client, p: "p50" | "p99") => results[client].map((r) => r[p])
  const benchmark = nodes >= 100 ? `1. latency (${nodes} nodes at once)` : `1b. latency (${nodes} nodes at once)`
  const rows: Array<Row> = []
  for (const p of ["p50", "p99"] as const) {
    const metric = `${p} server write → consumer, ms`
    const target = bareTarget(nodes)
    rows.push(row(
      { benchmark, metric, baselineOf: "bare node:http", target: `≤ ${target}× bare` },
      summarize(of("ours", p)),
      summarize(of("bare", p)),
      ratios(of("ours", p), of("bare", p)),
      (_, ratio) => ratio <= target,
      2
    ))
    if (nodes >= 100) {
      rows.push(row(
        { benchmark, metric, baselineOf: "eventsource", target: "< 1× eventsource" },
        summarize(of("ours", p)),
        summarize(of("eventsource", p)),
        ratios(of("ours", p), of("eventsource", p)),
        (_, ratio) => ratio < 1,
        2
      ))
    }
  }
  return { rows, details: { nodes, runs, rounds, ...results } }
}
