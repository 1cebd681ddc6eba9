/**
 * List change at scale: 1,000 nodes streaming (a head per node per second),
 * then the list is replaced by one that keeps 500 and swaps the other 500 for
 * new nodes; the time until every new node delivered a head, and proof that
 * no kept node reconnected (the server saw one request per kept node over all
 * runs, the monitor counts one connect and no disconnect, and every head sent
 * to a kept node arrived). Baseline: bare readers opening 500 streams and
 * closing 500.
 */
import * as BareReader from "./BareReader.js"
import * as MonitorClient from "./MonitorClient.js"
import { RemoteServer } from "./RemoteServer.js"
import { range, row, type ScenarioResult, sleep, waitFor } from "./Report.js"
import { ratios, summarize } from "./Stats.js"

const kept = range(500).map((i) => `k${i}`)
const runs = 5
const swapped = (run: number) => range(500).map((i) => `r${run}x${i}`)

export const run = async (): Promise<ScenarioResult> => {
  const server = await RemoteServer.start()
  await server.call({ cmd: "greet", on: true })
  await server.call({ cmd: "tick" })
  const url = (name: string) => server.url(name)

  // Ours.
  const received = new Map<string, number>()
  const nameOf = (id: string) => id.slice(id.lastIndexOf("/") + 1)
  const monitor = await MonitorClient.start([...kept, ...swapped(0)].map(url), {}, (event) => {
    const name = nameOf(event.node.id)
    received.set(name, (received.get(name) ?? 0) + 1)
  })
  await waitFor(() => [...kept, ...swapped(0)].every((n) => received.has(n)), 30_000, "all 1,000 deliver", 50)
  await server.call({ cmd: "tickEvery", ms: 1_000 })
  const ours: Array<number> = []
  for (let r = 1; r <= runs; r++) {
    const fresh = swapped(r)
    const start = performance.now()
    await monitor.update([...kept, ...fresh].map(url))
    await waitFor(() => fresh.every((n) => received.has(n)), 30_000, "500 new nodes deliver", 1)
    ours.push(performance.now() - start)
    await sleep(1_500)
  }
  await server.call({ cmd: "stopTicks" })
  await sleep(500)
  const stats = await server.stats()
  const status = await monitor.status()
  const fibers = await monitor.fiberCount()
  await monitor.close()
  const keptStatus = status.filter((s) => kept.includes(nameOf(s.node.id)))
  const proof = {
    keptRequestsTotal: kept.reduce((n, k) => n + (stats.requests[k] ?? 0), 0),
    keptConnects: keptStatus.reduce((n, s) => n + s.counters.connects, 0),
    keptDisconnects: keptStatus.reduce((n, s) => n + Object.values(s.counters.disconnects).reduce((a, b) => a + b, 0), 0),
    keptSent: kept.reduce((n, k) => n + (stats.sent[k] ?? 0), 0),
    keptReceived: kept.reduce((n, k) => n + (received.get(k) ?? 0), 0),
    removedStillOpen: range(runs).flatMap((r) => swapped(r)).reduce((n, k) => n + (stats.open[k] ?? 0), 0),
    fibers
  }

  // Baseline: the same change done by hand with bare readers.
  const bareReceived = new Set<string>()
  const open = (name: string) => BareReader.open(url(`b${name}`), () => bareReceived.add(name))
  const readers = new Map([...kept, ...swapped(0)].map((n) => [n, open(n)]))
  await waitFor(() => readers.size === bareReceived.size, 30_000, "bare readers deliver", 50)
  const bare: Array<number> = []
  for (let r = 1; r <= runs; r++) {
    const start = performance.now()
    for (const n of swapped(r - 1)) {
      readers.get(n)!.close()
      readers.delete(n)
    }
    const fresh = swapped(r)
    for (const n of fresh) readers.set(n, open(n))
    await waitFor(() => fresh.every((n) => bareReceived.has(n)), 30_000, "bare new readers deliver", 1)
    bare.push(performance.now() - start)
    await sleep(500)
  }
  for (const reader of readers.values()) reader.close()
  server.close()

  const noReconnect = proof.keptRequestsTotal === 500 && proof.keptConnects === 500 && proof.keptDisconnects === 0 &&
    proof.keptSent === proof.keptReceived && proof.removedStillOpen === 0 && fibers === 1000
  const benchmark = "4. list change 1,000 → 1,000 (500 replaced)"
  return {
    rows: [
      row(
        { benchmark, metric: "ms until all 500 new nodes delivered", baselineOf: "bare node:http", target: "≤ 500 ms" },
        summarize(ours),
        summarize(bare),
        ratios(ours, bare),
        (ms) => ms <= 500,
        0
      ),
      row(
        {
          benchmark,
          metric: `kept nodes' heads received (requests ${proof.keptRequestsTotal}, connects ${proof.keptConnects}, disconnects ${proof.keptDisconnects})`,
          baselineOf: "heads sent to kept nodes",
          target: "all received, 500 requests and connects, no disconnect"
        },
        summarize([proof.keptReceived]),
        summarize([proof.keptSent]),
        summarize([proof.keptReceived / proof.keptSent]),
        () => noReconnect,
        0
      )
    ],
    details: { runs, ours, bare, proof }
  }
}
