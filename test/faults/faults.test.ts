/**
 * The fault suite: four scripted beacon nodes, one of them faulty at a time,
 * each fault held for several (short, real-time) slots. For every fault it
 * prints and asserts: healthy nodes never reconnect, every head sent to a
 * healthy node is delivered, the faulty node recovers (time printed), one
 * fiber per node, and the heap stays bounded.
 *
 * `npm test` runs it with 5 slots of 400 ms per fault; `npm run test:faults`
 * holds every fault longer (FAULT_SLOTS, FAULT_SLOT_MS).
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { NodeStatus } from "../../src/monitor/NodeStatus.js"
import { disconnectReasons } from "../../src/stream/BeaconStreamError.js"
import { headData } from "../support/chain.js"
import { devnet, heapMiB, monitorOptions, reconnectsOf, sentOf, settings, waitUntil } from "./FaultHarness.js"
import { faults } from "./Faults.js"

/** The faulty node: not the first, so that list positions around it matter. */
const k = 1
/** Heap growth allowed over one fault, in MiB. */
const heapBound = 16
/** Longest the faulty node may take to deliver again: a stall limit, the capped delay with jitter, and slack. */
const recoveryDeadline = Number(monitorOptions.idleTimeout) + 1.2 * Number(monitorOptions.retry?.maxDelay) + 2_000

const rows: Array<Record<string, string | number>> = []

const byId = (statuses: ReadonlyArray<NodeStatus>) => new Map(statuses.map((s) => [s.node.id as string, s]))

describe("fault suite", () => {
  afterAll(() => {
    console.log(`fault matrix: ${settings.nodes} nodes, slot ${settings.slotMs} ms, each fault ${settings.slots} slots`)
    console.table(rows)
  })

  for (const fault of faults()) {
    it.scopedLive(fault.name, () =>
      Effect.gen(function*() {
        const net = yield* devnet
        const healthy = net.servers.filter((_, i) => i !== k)
        const original = net.servers[k]!
        const before = byId(yield* net.monitor.status)
        const sentBefore = healthy.map(sentOf)
        const receivedBefore = healthy.map((s) => net.received.get(s.url) ?? 0)
        const heapBefore = heapMiB()

        const end = yield* fault.run(net, k)
        const faulty = end.server
        // Probe the healed node every 5 ms, so that recovery is timed to the reconnect, not to the next slot.
        const recovery = yield* Effect.gen(function*() {
          while (true) {
            const at = net.firstHeadAfter(faulty.url, end.recoverFrom)
            if (at !== undefined) return at - end.recoverFrom
            if (performance.now() - end.recoverFrom > recoveryDeadline) {
              return yield* Effect.dieMessage(`${fault.name}: the faulty node did not deliver within ${recoveryDeadline} ms`)
            }
            faulty.send("head", headData(net.slot()))
            yield* Effect.sleep(5)
          }
        })

        yield* net.stopTicker
        const sent = healthy.map((s, i) => sentOf(s) - sentBefore[i]!)
        const received = () => healthy.map((s, i) => (net.received.get(s.url) ?? 0) - receivedBefore[i]!)
        // The last slot's events may still be in flight.
        yield* Effect.ignore(Effect.timeout(waitUntil(() => received().every((r, i) => r === sent[i]), 1_000, ""), 1_000))
        const after = byId(yield* net.monitor.status)
        const fibers = yield* net.monitor.fiberCount
        const heapAfter = heapMiB()

        const delta = (url: string) => {
          const was = before.get(url)
          const now = after.get(url)!
          const zero = { connects: 0, disconnects: 0 }
          const [b, a] = [was === undefined ? zero : reconnectsOf(was), reconnectsOf(now)]
          return { connects: a.connects - b.connects, disconnects: a.disconnects - b.disconnects }
        }
        const healthyReconnects = healthy.map((s) => delta(s.url)).reduce((n, d) => n + d.connects + d.disconnects, 0)
        const faultyAfter = after.get(faulty.url)!
        const faultyBefore = before.get(faulty.url)
        const reasons = disconnectReasons
          .map((r) => [r, faultyAfter.counters.disconnects[r] - (faultyBefore?.counters.disconnects[r] ?? 0)] as const)
          .filter(([, n]) => n > 0)
        const invalid = faultyAfter.counters.invalidEvents - (faultyBefore?.counters.invalidEvents ?? 0)

        const row = {
          fault: fault.name,
          "healthy reconnects": healthyReconnects,
          "healthy sent": sent.reduce((a, b) => a + b, 0),
          "healthy received": received().reduce((a, b) => a + b, 0),
          "faulty disconnects": reasons.map(([r, n]) => `${r}×${n}`).join(" ") || "none",
          "faulty invalid events": invalid,
          "recovery ms": Math.round(recovery),
          "fibers/nodes": `${fibers}/${net.servers.length}`,
          "heap MiB before→after": `${heapBefore.toFixed(1)}→${heapAfter.toFixed(1)}`
        }
        rows.push(row)
        console.log(JSON.stringify(row))

        expect(healthyReconnects).toBe(0)
        expect(received()).toEqual(sent)
        for (const n of sent) expect(n).toBeGreaterThanOrEqual(settings.slots)
        expect(fibers).toBe(net.servers.length)
        expect(heapAfter - heapBefore).toBeLessThan(heapBound)
        if (fault.disconnects === "none") {
          expect(delta(faulty.url)).toEqual({ connects: 0, disconnects: 0 })
        } else if (fault.disconnects.length > 0) {
          expect(reasons.some(([r]) => fault.disconnects.includes(r))).toBe(true)
        }
        if (fault.poison === true) expect(invalid).toBeGreaterThanOrEqual(settings.slots)
        if (faulty !== original) {
          // A node replaced in the list: its connections are all closed, and it is followed no more.
          expect(after.has(original.url)).toBe(false)
          expect(original.open).toBe(0)
          expect(original.closed).toBe(original.requests)
        }
      }), { timeout: 20_000 + settings.slots * settings.slotMs * 2 })
  }
})
