/**
 * Runs one benchmark scenario in this (fresh) process and sends its result to
 * the parent, run.ts: each scenario gets a clean heap and its own CPU count.
 *
 * Usage: node dist/test/bench/scenario.js NAME (built by `scripts/build.mjs bench`)
 */
import type { ScenarioResult } from "./Report.js"

const scenarios: Record<string, () => Promise<{ run: (arg?: string) => Promise<ScenarioResult> }>> = {
  latency: () => import("./latency.js"),
  latency5: async () => {
    const latency = await import("./latency.js")
    return { run: () => latency.run("5") }
  },
  throughput: () => import("./throughput.js"),
  scale: () => import("./scale.js"),
  listChange: () => import("./listChange.js"),
  recovery: () => import("./recovery.js"),
  startup: () => import("./startup.js")
}

const [name, arg] = process.argv.slice(2)
const load = scenarios[name ?? ""]
if (load === undefined) throw new Error(`unknown scenario ${name}`)
const result = await (await load()).run(arg)
if (process.send) process.send(result, () => process.exit(0))
else {
  console.log(JSON.stringify(result, null, 2))
  process.exit(0)
}
