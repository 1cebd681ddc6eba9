/**
 * Added latency: 100 nodes each write a head at the same instant; the time
 * from each server write to the consumer receiving the event, through the
 * monitor (`HeadMonitor.subscribe`) and through bare `node:http` readers,
 * measured in one process against the same in-process server.
 */
import * as BareReader from "./BareReader.js"
import * as MonitorClient from "./MonitorClient.js"
import { MultiNodeServer } from "./MultiNodeServer.js"
import { range, type ScenarioResult, sleep, waitFor } from "./Report.js"
import { format, percentile, summarize } from "./Stats.js"

const nodes = 100
const runs = 7
const rounds = 20

export const run = async (): Promise<ScenarioResult> => {
  const server = new MultiNodeServer()
  await server.listen()
  const ours = range(nodes).map((i) => `m${i}`)
  const bare = range(nodes).map((i) => `b${i}`)
  const nameOf = new Map(ours.map((name) => [server.url(name), name]))

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

  const monitor = await MonitorClient.start(ours.map((name) => server.url(name)), {}, (event) =>
    receive(nameOf.get(event.node.id)!, event.slot))
  const readers = bare.map((name) => BareReader.open(server.url(name), (data) => receive(name, Number(data.slot))))
  await waitFor(() => server.open === 2 * nodes, 10_000, "all streams open")

  const round = async (names: ReadonlyArray<string>) => {
    const slot = ++server.slot
    pending = names.length
    const done = new Promise<void>((resolve) => roundDone = resolve)
    for (const name of names) sentAt.set(`${name}|${slot}`, server.send(name, slot))
    await Promise.race([done, sleep(5_000).then(() => Promise.reject(new Error("round timed out")))])
    sentAt.clear()
    await sleep(10)
  }
  const measure = async (names: ReadonlyArray<string>) => {
    samples = []
    for (let r = 0; r < rounds; r++) await round(names)
    return { p50: percentile(samples, 50), p99: percentile(samples, 99) }
  }

  // Warm-up: the JIT, the sockets and the monitor's caches.
  await measure(ours)
  await measure(bare)
  const oursRuns: Array<{ p50: number; p99: number }> = []
  const bareRuns: Array<{ p50: number; p99: number }> = []
  for (let i = 0; i < runs; i++) {
    // Alternate the order, so that neither side always runs on a freshly collected heap.
    if (i % 2 === 0) {
      oursRuns.push(await measure(ours))
      bareRuns.push(await measure(bare))
    } else {
      bareRuns.push(await measure(bare))
      oursRuns.push(await measure(ours))
    }
  }
  for (const reader of readers) reader.close()
  await monitor.close()
  await server.stop()

  const pick = (list: typeof oursRuns, p: "p50" | "p99") => summarize(list.map((r) => r[p]))
  const added = (p: "p50" | "p99") => summarize(oursRuns.map((r, i) => r[p] - bareRuns[i]![p]))
  const targets = { p50: 0.2, p99: 0.5 }
  const rows = (["p50", "p99"] as const).map((p) => ({
    benchmark: "1. added latency (100 nodes at once)",
    metric: `${p} server write → consumer, ms`,
    ours: format(pick(oursRuns, p), 3),
    baseline: `${format(pick(bareRuns, p), 3)} bare node:http`,
    comparison: `+${format(added(p), 3)} ms`,
    target: `≤ +${targets[p]} ms`,
    met: added(p).median <= targets[p]
  }))
  return { rows, details: { nodes, runs, rounds, ours: oursRuns, bare: bareRuns } }
}
