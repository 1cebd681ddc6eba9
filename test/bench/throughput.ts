/**
 * Throughput: one node's server (in a child process) writes head events as
 * fast as its socket takes them; the client counts events per second of wall
 * time and per CPU-second of its own process. Ours (`HeadMonitor.subscribe`)
 * against the npm `eventsource` client + `JSON.parse` (what Lodestar's
 * validator uses), with a bare `node:http` reader for reference.
 */
import { EventSource } from "eventsource"
import * as BareReader from "./BareReader.js"
import * as MonitorClient from "./MonitorClient.js"
import { RemoteServer } from "./RemoteServer.js"
import { range, row, type ScenarioResult, waitFor } from "./Report.js"
import { ratios, summarize } from "./Stats.js"

const events = 100_000
const runs = 5
/** Runs of each client before the measured ones: ours (more code to compile) reached its speed on the third. */
const warmUps = 3

interface Measure {
  readonly perSecond: number
  readonly perCpuSecond: number
  readonly received: number
}

type Client = (url: string, onSlot: (slot: number) => void) => Promise<() => Promise<void> | void>

const clients: Record<"ours" | "eventsource" | "bare", Client> = {
  ours: async (url, onSlot) => {
    const monitor = await MonitorClient.start([url], {}, (event) => onSlot(event.slot))
    return () => monitor.close()
  },
  eventsource: async (url, onSlot) => {
    const source = new EventSource(`${url}/eth/v1/events?topics=head`)
    source.addEventListener("head", (event) => onSlot(Number(JSON.parse(event.data).slot)))
    return () => source.close()
  },
  bare: async (url, onSlot) => {
    const reader = BareReader.open(url, (data) => onSlot(Number(data.slot)))
    return () => reader.close()
  }
}

const measure = async (server: RemoteServer, name: keyof typeof clients, run: number): Promise<Measure> => {
  const node = `${name}${run}`
  let received = 0
  let finished = () => {}
  const done = new Promise<void>((resolve) => finished = resolve)
  const close = await clients[name](server.url(node), (slot) => {
    received++
    if (slot === events) finished()
  })
  await waitFor(async () => (await server.stats()).open[node] === 1, 10_000, `${name} connects`)
  const cpu = process.cpuUsage()
  const start = performance.now()
  await server.call({ cmd: "blast", node, count: events })
  await done
  const wall = (performance.now() - start) / 1000
  const used = process.cpuUsage(cpu)
  await close()
  return { perSecond: received / wall, perCpuSecond: received / ((used.user + used.system) / 1e6), received }
}

export const run = async (): Promise<ScenarioResult> => {
  const server = await RemoteServer.start()
  const results = { ours: [] as Array<Measure>, eventsource: [] as Array<Measure>, bare: [] as Array<Measure> }
  // Warm-ups of each, then alternate so that no client always runs first.
  for (const i of range(warmUps)) {
    for (const name of ["ours", "eventsource", "bare"] as const) await measure(server, name, -1 - i)
  }
  for (const i of range(runs)) {
    for (const name of ["ours", "eventsource", "bare"] as const) results[name].push(await measure(server, name, i))
  }
  server.close()

  const of = (name: keyof typeof results, key: keyof Measure) => results[name].map((r) => r[key] / 1000)
  // The bare reader is a reference (in the details), not a target.
  const rows = (["perSecond", "perCpuSecond"] as const).map((key) =>
    row(
      {
        benchmark: "2. throughput (one stream, flat out)",
        metric: key === "perSecond" ? "k events / s" : "k events / CPU-s",
        baselineOf: "eventsource",
        target: "≥ 1.25× eventsource"
      },
      summarize(of("ours", key)),
      summarize(of("eventsource", key)),
      ratios(of("ours", key), of("eventsource", key)),
      (_, ratio) => ratio >= 1.25
    )
  )
  const lost = results.ours.map((r) => events - r.received)
  return { rows, details: { events, warmUps, runs, results, oursLost: lost } }
}
