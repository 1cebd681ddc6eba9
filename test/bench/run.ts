/**
 * `npm run bench`: runs every benchmark scenario in a fresh process (clean
 * heap, its own CPU and RSS figures), prints the table and writes it with the
 * raw figures to test/bench/results.json.
 *
 * Env: BENCH_ONLY=latency,latency5,scale… runs a subset; BENCH_SCALE_SECONDS (30) and
 * BENCH_RECOVERY_SECONDS (1,5,30) shorten the long ones.
 */
import { fork } from "node:child_process"
import { writeFileSync } from "node:fs"
import * as Os from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type Row, row, type ScenarioResult } from "./Report.js"
import type { ScaleFigures } from "./scale.js"
import { type Summary, summarize } from "./Stats.js"

const scenario = (name: string, arg?: string): Promise<ScenarioResult> =>
  new Promise((resolve, reject) => {
    // Bundled (dist/test/bench/, see scripts/build.mjs): scenario.js is this file's sibling there.
    const child = fork(fileURLToPath(new URL("./scenario.js", import.meta.url)), arg === undefined ? [name] : [name, arg], {
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    let result: ScenarioResult | undefined
    child.on("message", (message: ScenarioResult) => result = message)
    child.on("exit", (code) => result === undefined ? reject(new Error(`${name} exited with ${code}`)) : resolve(result))
  })

const scaleRows = (ours: ScaleFigures, bare: ScaleFigures): Array<Row> => {
  const benchmark = "3. scale (1,000 streams, 1 head/node/s)"
  const one = (value: number) => summarize([value])
  const percent = (windows: Summary) => ({ ...windows, median: windows.median * 100, min: windows.min * 100, max: windows.max * 100 })
  const lossFree = ours.sent === ours.received && ours.nodesWithLoss === 0 && ours.fibers === 1000
  return [
    row(
      { benchmark, metric: "peak RSS, MiB", baselineOf: "bare node:http", target: "≤ 1.5× bare and ≤ 192 MiB" },
      one(ours.peakRssMiB),
      one(bare.peakRssMiB),
      one(ours.peakRssMiB / bare.peakRssMiB),
      (mib, ratio) => ratio <= 1.5 && mib <= 192,
      0
    ),
    row(
      { benchmark, metric: "CPU, % of one core (whole run; 5-s windows in spread)", baselineOf: "bare node:http", target: "≤ 2× bare and ≤ 5 %" },
      { ...percent(ours.cpuWindows), median: ours.cpuShare * 100 },
      { ...percent(bare.cpuWindows), median: bare.cpuShare * 100 },
      one(ours.cpuShare / bare.cpuShare),
      (share, ratio) => ratio <= 2 && share <= 5
    ),
    row(
      { benchmark, metric: `heads received (sent ${ours.sent}; fibers ${ours.fibers ?? "?"}/1000)`, baselineOf: "bare node:http", target: "all sent received, 1,000 fibers" },
      one(ours.received),
      one(bare.received),
      one(ours.received / ours.sent),
      () => lossFree,
      0
    )
  ]
}

const only = process.env.BENCH_ONLY?.split(",")
const wanted = (name: string) => only === undefined || only.includes(name)
const started = performance.now()
const rows: Array<Row> = []
const details: Record<string, unknown> = {}
for (const name of ["latency", "latency5", "throughput", "scale", "listChange", "recovery", "startup"]) {
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
const table = rows.map(({ baselineOf, benchmark, met, metric, ratio, spread, target }) => ({
  benchmark,
  metric,
  "ours vs baseline": spread,
  baseline: baselineOf,
  ratio: `${ratio}×`,
  target,
  met: met ? "yes" : "NO"
}))
console.log(`machine: ${machine.cpus} cores (${machine.model}), ${machine.memoryGiB} GiB, node ${machine.node}`)
console.table(table)
// `npm run bench` runs in the package's folder; the results sit beside the sources.
const out = join(process.cwd(), "test/bench/results.json")
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), machine, seconds: Math.round((performance.now() - started) / 1000), rows, details }, null, 2)}\n`)
console.log(`written to ${out}`)
