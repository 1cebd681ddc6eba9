/**
 * `npm run bench`: runs every benchmark scenario in a fresh process (clean
 * heap, its own CPU and RSS figures), prints the table and writes it with the
 * raw figures to test/bench/results.json.
 *
 * Env: BENCH_ONLY=latency,scale… runs a subset; BENCH_SCALE_SECONDS (30) and
 * BENCH_RECOVERY_SECONDS (1,5,30) shorten the long ones.
 */
import { fork } from "node:child_process"
import { writeFileSync } from "node:fs"
import * as Os from "node:os"
import { fileURLToPath } from "node:url"
import type { Row, ScenarioResult } from "./Report.js"
import type { ScaleFigures } from "./scale.js"
import { format } from "./Stats.js"

const scenario = (name: string, arg?: string): Promise<ScenarioResult> =>
  new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL("./scenario.ts", import.meta.url)), arg === undefined ? [name] : [name, arg], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    let result: ScenarioResult | undefined
    child.on("message", (message: ScenarioResult) => result = message)
    child.on("exit", (code) => result === undefined ? reject(new Error(`${name} exited with ${code}`)) : resolve(result))
  })

const scaleRows = (ours: ScaleFigures, bare: ScaleFigures): Array<Row> => {
  const name = "3. scale (1,000 streams, 1 head/node/s)"
  return [
    {
      benchmark: name,
      metric: "peak RSS, MiB",
      ours: ours.peakRssMiB.toFixed(0),
      baseline: `${bare.peakRssMiB.toFixed(0)} bare node:http`,
      comparison: `+${(ours.peakRssMiB - bare.peakRssMiB).toFixed(0)} MiB`,
      target: "≤ 256 MiB",
      met: ours.peakRssMiB <= 256
    },
    {
      benchmark: name,
      metric: "CPU, % of one core (per 5-s window)",
      ours: format({ ...ours.cpuWindows, median: ours.cpuWindows.median * 100, min: ours.cpuWindows.min * 100, max: ours.cpuWindows.max * 100 }, 1),
      baseline: `${format({ ...bare.cpuWindows, median: bare.cpuWindows.median * 100, min: bare.cpuWindows.min * 100, max: bare.cpuWindows.max * 100 }, 1)} bare`,
      comparison: `${(ours.cpuShare / bare.cpuShare).toFixed(1)}×`,
      target: "≤ 10 %",
      met: ours.cpuShare <= 0.1
    },
    {
      benchmark: name,
      metric: "heads sent = received (nodes with loss)",
      ours: `${ours.sent} = ${ours.received} (${ours.nodesWithLoss})`,
      baseline: `${bare.sent} = ${bare.received} (${bare.nodesWithLoss})`,
      comparison: `fibers ${ours.fibers ?? "?"}/1000`,
      target: "equal",
      met: ours.sent === ours.received && ours.nodesWithLoss === 0 && ours.fibers === 1000
    }
  ]
}

const only = process.env.BENCH_ONLY?.split(",")
const wanted = (name: string) => only === undefined || only.includes(name)
const started = performance.now()
const rows: Array<Row> = []
const details: Record<string, unknown> = {}
for (const name of ["latency", "throughput", "scale", "listChange", "recovery"]) {
  if (!wanted(name)) continue
  console.error(`running ${name}…`)
  if (name === "scale") {
    const ours = await scenario("scale", "ours")
    const bare = await scenario("scale", "bare")
    rows.push(...scaleRows(ours.details as unknown as ScaleFigures, bare.details as unknown as ScaleFigures))
    details[name] = { ours: ours.details, bare: bare.details }
  } else {
    const result = await scenario(name)
    rows.push(...result.rows)
    details[name] = result.details
  }
}

const machine = {
  cpus: Os.cpus().length,
  model: Os.cpus()[0]?.model ?? "unknown",
  memoryGiB: Math.round(Os.totalmem() / 2 ** 30),
  node: process.version,
  platform: `${Os.platform()} ${Os.release()}`
}
const table = rows.map((r) => ({ ...r, met: r.met ? "yes" : "NO" }))
console.log(`machine: ${machine.cpus} cores (${machine.model}), ${machine.memoryGiB} GiB, node ${machine.node}`)
console.table(table)
const out = fileURLToPath(new URL("./results.json", import.meta.url))
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), machine, seconds: Math.round((performance.now() - started) / 1000), rows, details }, null, 2)}\n`)
console.log(`written to ${out}`)
