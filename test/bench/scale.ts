/**
 * Scale: 1,000 node streams (one server process, a base path per node) at one
 * head per node per second; the client process's peak RSS, CPU share and
 * delivery. Run once with the monitor (`ours`) and once with bare `node:http`
 * readers (`bare`), each in its own process so that memory figures are its own.
 */
import * as BareReader from "./BareReader.js"
import * as MonitorClient from "./MonitorClient.js"
import { RemoteServer } from "./RemoteServer.js"
import { range, type ScenarioResult, sleep, waitFor } from "./Report.js"
import { summarize } from "./Stats.js"

const nodes = 1000
const seconds = Number(process.env.BENCH_SCALE_SECONDS ?? 30)
/** CPU share is also reported per window of this many seconds (median and min–max). */
const window = 5

export interface ScaleFigures {
  readonly peakRssMiB: number
  readonly cpuShare: number
  readonly cpuWindows: ReturnType<typeof summarize>
  readonly sent: number
  readonly received: number
  readonly nodesWithLoss: number
  readonly fibers?: number
}

export const run = async (client = "ours"): Promise<ScenarioResult> => {
  const server = await RemoteServer.start()
  const names = range(nodes).map((i) => `s${i}`)
  const received = new Map<string, number>()
  let peakRss = process.memoryUsage().rss
  const sampler = setInterval(() => peakRss = Math.max(peakRss, process.memoryUsage().rss), 100)
  const count = (name: string) => received.set(name, (received.get(name) ?? 0) + 1)

  let close: () => Promise<void> | void
  let fibers: (() => Promise<number>) | undefined
  if (client === "ours") {
    const nameOf = new Map(names.map((name) => [server.url(name), name]))
    const monitor = await MonitorClient.start(names.map((name) => server.url(name)), {}, (event) => count(nameOf.get(event.node.id)!))
    close = () => monitor.close()
    fibers = () => monitor.fiberCount()
  } else {
    const readers = names.map((name) => BareReader.open(server.url(name), () => count(name)))
    close = () => readers.forEach((reader) => reader.close())
  }
  await waitFor(async () => Object.keys((await server.stats()).open).length === nodes, 30_000, "all streams open", 200)
  await sleep(1_000)

  const cpuStart = process.cpuUsage()
  const start = performance.now()
  await server.call({ cmd: "tickEvery", ms: 1_000 })
  const windows: Array<number> = []
  for (let w = 0; w < seconds / window; w++) {
    const cpu = process.cpuUsage()
    const at = performance.now()
    await sleep(window * 1_000)
    const used = process.cpuUsage(cpu)
    windows.push((used.user + used.system) / 1_000 / (performance.now() - at))
  }
  await server.call({ cmd: "stopTicks" })
  const wall = performance.now() - start
  const used = process.cpuUsage(cpuStart)
  await sleep(500)
  const stats = await server.stats()
  const fiberCount = await fibers?.()
  clearInterval(sampler)
  await close()
  server.close()

  const sent = Object.values(stats.sent).reduce((a, b) => a + b, 0)
  const figures: ScaleFigures = {
    peakRssMiB: peakRss / 2 ** 20,
    cpuShare: (used.user + used.system) / 1_000 / wall,
    cpuWindows: summarize(windows),
    sent,
    received: [...received.values()].reduce((a, b) => a + b, 0),
    nodesWithLoss: names.filter((name) => (received.get(name) ?? 0) !== (stats.sent[name] ?? 0)).length,
    ...(fiberCount === undefined ? {} : { fibers: fiberCount })
  }
  return { rows: [], details: { client, nodes, seconds, ...figures } }
}
