/**
 * Vitest's global setup: bundles what the process tests start (the command,
 * the fault suite's monitor process) from the current sources, so that a test
 * run never starts a stale build. A few seconds; the library's `tsc` build is
 * not needed by any test.
 */
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"

export default function setup(): void {
  execFileSync(process.execPath, ["scripts/build.mjs", "bin", "faults"], {
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    stdio: "inherit"
  })
}
