/**
 * Start-up: the built command (`dist/bin/bin.js`, what `npm start` and the
 * package's `bin` run) beside `node -e 0` started the same way in the same run,
 * run after run. Per run:
 * - `--help`: wall time from spawn to exit, and peak RSS;
 * - following 3 local nodes already streaming: spawn → the `monitoring` line,
 *   spawn → the first `new head` line, and peak RSS once every node has sent
 *   heads for a second (the process is then stopped with SIGTERM).
 * Peak RSS is what the process itself reports at exit (`process.resourceUsage`,
 * from a one-line `--require` given to ours and the baseline alike).
 *
 * The nodes send their current head as soon as a stream opens, then one every
 * 100 ms: "first head" is the program's own start, not a wait for the chain.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { headData } from "../support/chain.js"
import { type Row, row, type ScenarioResult, sleep, waitFor } from "./Report.js"
import { ratios, summarize } from "./Stats.js"

const runs = 7
const benchmark = "6. startup (the built command vs node -e 0)"
/** A process that has not done its part by then has failed the run: generous, as the machine may be busy. */
const deadlineMs = 60_000

/** `npm run bench` runs in the package's folder. */
const command = join(process.cwd(), "dist/bin/bin.js")
const dir = mkdtempSync(join(tmpdir(), "bhm-startup-"))
const reportRss = join(dir, "report-rss.cjs")
writeFileSync(
  reportRss,
  `process.on("exit", () => require("node:fs").writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)))\n`
)

/** A local node streaming heads: the current one on connect, then the next every 100 ms. */
const streamingNode = async (): Promise<{ readonly url: string; readonly heads: () => number; readonly close: () => Promise<void> }> => {
  const streams = new Set<ServerResponse>()
  let slot = 1
  let sent = 0
  const write = (response: ServerResponse) => {
    response.write(`event: head\ndata: ${JSON.stringify(headData(slot))}\n\n`)
    sent++
  }
  const server: Server = createServer((request, response) => {
    if (!request.url?.startsWith("/eth/v1/events")) return void response.writeHead(404).end()
    response.writeHead(200, { "content-type": "text/event-stream" })
    streams.add(response)
    response.on("close", () => streams.delete(response))
    write(response)
  })
  const beat = setInterval(() => {
    slot++
    for (const response of streams) write(response)
  }, 100)
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    heads: () => sent,
    close: () => {
      clearInterval(beat)
      for (const response of streams) response.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    }
  }
}

interface Started {
  /** Milliseconds from spawn to the first stdout line matching each pattern. */
  readonly lines: Map<RegExp, number>
  readonly exited: Promise<{ readonly ms: number; readonly code: number | null; readonly maxRssMiB: number }>
  readonly stop: () => void
}

let runId = 0

/** Starts `node --require report-rss.cjs ARGS`, timing the lines that match `watch`. */
const start = (args: ReadonlyArray<string>, watch: ReadonlyArray<RegExp> = []): Started => {
  const rssFile = join(dir, `rss-${runId++}`)
  const startedAt = performance.now()
  const child = spawn(process.execPath, ["--require", reportRss, ...args], {
    env: { PATH: process.env["PATH"] ?? "", BENCH_RSS_FILE: rssFile },
    stdio: ["ignore", "pipe", "inherit"]
  })
  const lines = new Map<RegExp, number>()
  let pending = ""
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    const at = performance.now() - startedAt
    const parts = (pending + text).split("\n")
    pending = parts.pop() ?? ""
    for (const line of parts) for (const pattern of watch) if (!lines.has(pattern) && pattern.test(line)) lines.set(pattern, at)
  })
  const exited = new Promise<{ ms: number; code: number | null; maxRssMiB: number }>((resolve) =>
    child.on("exit", (code) => resolve({ ms: performance.now() - startedAt, code, maxRssMiB: Number(readFileSync(rssFile, "utf8")) / 1024 }))
  )
  return { lines, exited, stop: () => child.kill("SIGTERM") }
}

const finished = async (started: Started, what: string) => {
  const exit = await Promise.race([started.exited, sleep(deadlineMs).then(() => undefined)])
  if (exit === undefined || exit.code !== 0) throw new Error(`${what}: ${exit === undefined ? "no exit in time" : `exit code ${exit.code}`}`)
  return exit
}

const monitoringLine = /message=monitoring /
const headLine = /message="new head" /

export const run = async (): Promise<ScenarioResult> => {
  const figures = {
    baselineMs: [] as Array<number>,
    baselineRssMiB: [] as Array<number>,
    helpMs: [] as Array<number>,
    helpRssMiB: [] as Array<number>,
    monitoringMs: [] as Array<number>,
    firstHeadMs: [] as Array<number>,
    followingRssMiB: [] as Array<number>
  }
  const nodes = await Promise.all([streamingNode(), streamingNode(), streamingNode()])
  try {
    for (let i = 0; i < runs; i++) {
      const baseline = await finished(start(["-e", "0"]), "node -e 0")
      figures.baselineMs.push(baseline.ms)
      figures.baselineRssMiB.push(baseline.maxRssMiB)

      const help = await finished(start([command, "--help"]), "--help")
      figures.helpMs.push(help.ms)
      figures.helpRssMiB.push(help.maxRssMiB)

      const before = nodes.map((node) => node.heads())
      const following = start([
        command,
        "--beacon-nodes",
        nodes.map((node) => node.url).join(","),
        "--seconds-per-slot",
        "12",
        "--genesis-time",
        String(Math.floor(Date.now() / 1000)),
        "--http-port",
        "0",
        "--metrics-port",
        "0",
        "--api-token-file",
        join(dir, "api-token.txt")
      ], [monitoringLine, headLine])
      // Every node has streamed to the new process for a second (10 heads) before its memory counts.
      await waitFor(() => following.lines.has(headLine) && nodes.every((node, n) => node.heads() - before[n]! >= 10), deadlineMs, "heads from every node", 20)
      following.stop()
      const exit = await finished(following, "following 3 nodes")
      figures.monitoringMs.push(following.lines.get(monitoringLine)!)
      figures.firstHeadMs.push(following.lines.get(headLine)!)
      figures.followingRssMiB.push(exit.maxRssMiB)
    }
  } finally {
    await Promise.all(nodes.map((node) => node.close()))
    rmSync(dir, { recursive: true, force: true })
  }

  const baselineOf = "node -e 0"
  /** A row against `node -e 0`: a time (ms measured, seconds shown) or a memory figure, with its limit. */
  const against = (metric: string, ours: ReadonlyArray<number>, baseline: ReadonlyArray<number>, limit: number, unit: "s" | "MiB") => {
    const scale = unit === "s" ? 1 / 1000 : 1
    const shown = (values: ReadonlyArray<number>) => summarize(values.map((value) => value * scale))
    return row(
      { benchmark, metric, baselineOf, target: `≤ ${limit.toFixed(unit === "s" ? 1 : 0)} ${unit}` },
      shown(ours),
      shown(baseline),
      ratios(ours, baseline),
      (figure) => figure <= limit,
      unit === "s" ? 2 : 0
    )
  }
  const rows: Array<Row> = [
    against("--help: wall time, s", figures.helpMs, figures.baselineMs, 0.7, "s"),
    against("--help: peak RSS, MiB", figures.helpRssMiB, figures.baselineRssMiB, 128, "MiB"),
    against("spawn → \"monitoring\" line, s (baseline: node -e 0 to exit)", figures.monitoringMs, figures.baselineMs, 1, "s"),
    against("spawn → first head (3 local nodes streaming), s (baseline: to exit)", figures.firstHeadMs, figures.baselineMs, 1, "s"),
    against("peak RSS following 3 nodes, MiB", figures.followingRssMiB, figures.baselineRssMiB, 128, "MiB")
  ]
  return { rows, details: { runs, ...figures } }
}
