/**
 * SIGTERM mid-backoff: a monitor process follows a healthy node and a node that
 * refuses connections; while that node waits out a long backoff, SIGTERM must
 * end the process promptly with exit code 0, closing the healthy stream.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { headData } from "../support/chain.js"
import { waitUntil } from "./FaultHarness.js"

/** Built by the test run's global setup (test/support/build.ts). */
const script = fileURLToPath(new URL("../../dist/test/faults/monitorProcess.js", import.meta.url))
/** The backoff the refused node waits out: far longer than the test. */
const backoffMs = 60_000

describe("fault suite", () => {
  it.scopedLive("SIGTERM mid-backoff", () =>
    Effect.gen(function*() {
      const healthy = yield* BeaconNodeServer.make()
      const refused = yield* BeaconNodeServer.make()
      yield* Effect.promise(() => refused.stop())
      const child = spawn(process.execPath, [script, String(backoffMs), healthy.url, refused.url], {
        stdio: ["ignore", "pipe", "inherit"]
      })
      yield* Effect.addFinalizer(() => Effect.sync(() => child.kill("SIGKILL")))
      let states: Array<{ node: string; state: string }> = []
      let buffered = ""
      child.stdout.setEncoding("utf8").on("data", (text: string) => {
        buffered += text
        const lines = buffered.split("\n")
        buffered = lines.pop() ?? ""
        if (lines.length > 0) states = JSON.parse(lines[lines.length - 1]!)
      })
      const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
        child.on("exit", (code, signal) => resolve({ code, signal, at: performance.now() }))
      )

      yield* waitUntil(() => healthy.open === 1, 60_000, "the child connects")
      let slot = 0
      yield* waitUntil(() => {
        healthy.send("head", headData(++slot))
        return states[0]?.state === "Open" && states[1]?.state === "Backoff"
      }, 60_000, "healthy node open, refused node in backoff")

      const signalledAt = performance.now()
      child.kill("SIGTERM")
      const exit = yield* Effect.promise(() => exited)
      const shutdownMs = exit.at - signalledAt
      yield* waitUntil(() => healthy.open === 0, 60_000, "the healthy stream is closed")
      console.log(JSON.stringify({
        fault: "SIGTERM mid-backoff",
        "backoff ms": backoffMs,
        "shutdown ms": Math.round(shutdownMs),
        "exit code": exit.code,
        "healthy stream closed": healthy.closed === healthy.requests
      }))

      expect(exit).toMatchObject({ code: 0, signal: null })
      // Interrupted mid-sleep: it does not wait for the backoff to end.
      expect(shutdownMs).toBeLessThan(backoffMs / 4)
      expect(healthy.closed).toBe(healthy.requests)
    }), { timeout: 180_000 })
})
