/**
 * What the operator sees: the status table, the pinned screen, and the log
 * lines of a real monitor following real loopback nodes (failures throttled to
 * the 1st, 2nd, 4th, 8th …), with the TestClock driving the retries.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, HashMap, Layer, Logger, LogLevel, TestClock } from "effect"
import { Screen } from "../../src/cli/Screen.js"
import * as StatusReporter from "../../src/cli/StatusReporter.js"
import { formatAge, render } from "../../src/cli/StatusTable.js"
import { CandidateList } from "../../src/candidates/CandidateList.js"
import * as SlotClock from "../../src/health/SlotClock.js"
import { FirstSeen } from "../../src/metrics/FirstSeen.js"
import type { HeadEvent } from "../../src/monitor/HeadEvent.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import { ConnectionState, emptyCounters, type NodeCounters, type NodeStatus } from "../../src/monitor/NodeStatus.js"
import { Root } from "../../src/events/BeaconEvent.js"
import * as BeaconNode from "../../src/node/BeaconNode.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"
import { headData, root } from "../support/chain.js"
import { waitFor } from "../support/wait.js"

const counters = (disconnects: Partial<NodeCounters["disconnects"]> = {}): NodeCounters => {
  const zero = emptyCounters()
  return { ...zero, connects: 1, disconnects: { ...zero.disconnects, ...disconnects } }
}

const now = 1_700_000_100_000

const status = (
  index: number,
  url: string,
  state: ConnectionState,
  head?: { readonly slot: number; readonly receivedAt: number },
  disconnects?: Partial<Record<string, number>>
): NodeStatus => {
  const node = BeaconNode.unsafeParse(url)
  return {
    node,
    index,
    lagging: false,
    topics: ["head", "chain_reorg"],
    lastReorg: undefined,
    lastError: state._tag === "Backoff" ? { reason: state.reason, detail: state.detail, at: state.since } : undefined,
    lastConfirmedAt: undefined,
    state,
    counters: counters(disconnects),
    head: head && {
      node,
      slot: head.slot,
      block: Root.make(root(`b${head.slot}`)),
      receivedAt: head.receivedAt,
      source: "event"
    },
    lastActivityAt: undefined
  }
}

/** The table of the README's sample. */
const sample = (): Array<string> => {
  const statuses = [
    status(0, "http://localhost:5052", ConnectionState.Open({ since: now - 754_000 }), { slot: 8_123_457, receivedAt: now - 400 }),
    status(1, "http://user:password@10.0.0.2:5052/?apikey=SECRET", ConnectionState.Open({ since: now - 63_000 }), {
      slot: 8_123_457,
      receivedAt: now - 362
    }, { ended: 2 }),
    status(
      2,
      "https://bn3.example.org",
      ConnectionState.Backoff({
        since: now - 1_200,
        attempt: 3,
        nextAttemptAt: now + 800,
        reason: "refused",
        detail: "ECONNREFUSED"
      }),
      undefined,
      { refused: 3, reset: 1 }
    )
  ]
  return render({
    now,
    slot: 8_123_457,
    listVersion: 2,
    nodes: statuses,
    lagOf: (s) => (s.head === undefined ? undefined : s.head.receivedAt - (now - 400)),
    colors: false
  })
}

describe("StatusTable", () => {
  it("one row per node: index, display URL, state, head slot, lag, reconnects, last error", () => {
    expect(sample()).toEqual([
      "beacon-head-monitor · slot 8123457 · 3 nodes · list v2",
      "#  NODE                                      STATE                       HEAD SLOT  LAG ms  RECONNECTS  LAST ERROR",
      "0  http://localhost:5052                     open 12m                      8123457       0           0  -",
      "1  http://user:***@10.0.0.2:5052?apikey=***  open 1m                       8123457      38           2  -",
      "2  https://bn3.example.org                   backoff #3, retry in 800ms          -       -           4  refused (ECONNREFUSED) 1s ago"
    ])
  })

  it("formats ages compactly", () => {
    expect([0, 999, 1_000, 59_999, 60_000, 3_600_000, 86_400_000].map(formatAge)).toEqual([
      "0ms",
      "999ms",
      "1s",
      "59s",
      "1m",
      "1h",
      "1d"
    ])
  })
})

describe("Screen", () => {
  const output = (columns?: number) => {
    const out = { written: "", columns }
    return { out, write: (text: string) => (out.written += text) }
  }

  it("prints lines above the table and redraws the table in place", () => {
    const { out, write } = output(20)
    const screen = new Screen({ write, columns: out.columns })
    screen.show(["table 1", "row"])
    expect(out.written).toBe("table 1\nrow\n")
    screen.print("a log line")
    // Up two lines, clear, the line, the table again.
    expect(out.written).toBe("table 1\nrow\n\x1b[2F\x1b[Ja log line\ntable 1\nrow\n")
    screen.show(["table 2 is longer than twenty"])
    expect(out.written.endsWith("\x1b[2F\x1b[Jtable 2 is longer th\x1b[0m\n")).toBe(true)
    screen.release()
    screen.print("last line")
    expect(out.written.endsWith("th\x1b[0m\nlast line\n")).toBe(true)
  })
})

describe("FirstSeen", () => {
  const event = (slot: number, receivedAt: number, first: boolean, outcome: HeadEvent["outcome"] = "new") =>
    ({ slot, receivedAt, first, outcome }) as HeadEvent

  it("measures each live head behind the first arrival of its slot", () => {
    const seen = new FirstSeen()
    expect(seen.record(event(5, 1_000, true))).toBe(0)
    expect(seen.record(event(5, 1_012, false))).toBe(12)
    expect(seen.record(event(5, 1_020, false, "duplicate"))).toBeUndefined()
    expect(seen.record(event(4, 1_030, false, "replayed"))).toBeUndefined()
    // An older slot never seen: a node far behind, no delay to tell.
    expect(seen.record(event(3, 1_040, false))).toBeUndefined()
    expect(seen.delayOf(5, 1_100)).toBe(100)
    for (let slot = 7; slot < 7 + 64; slot++) seen.record(event(slot, slot * 1000, true))
    expect(seen.delayOf(5, 1_100)).toBeUndefined()
  })

  it("the earliest arrival wins when two nodes' events are published in the other order", () => {
    const seen = new FirstSeen()
    seen.record(event(5, 1_000, true))
    expect(seen.record(event(6, 3_010, false))).toBe(0)
    expect(seen.record(event(6, 3_000, true))).toBe(0)
    expect(seen.delayOf(6, 3_010)).toBe(10)
  })
})

describe("StatusReporter", () => {
  it("warns on the 1st, 2nd, 4th, 8th … consecutive failure", () => {
    const warned = [1, 2, 3, 4, 5, 6, 7, 8, 9, 16].filter((n) => StatusReporter.crossesPowerOfTwo(n - 1, n))
    expect(warned).toEqual([1, 2, 4, 8, 16])
    // A skipped count still warns when it passes a power of two.
    expect(StatusReporter.crossesPowerOfTwo(3, 5)).toBe(true)
    expect(StatusReporter.crossesPowerOfTwo(4, 7)).toBe(false)
  })

  interface Line {
    readonly level: string
    readonly message: string
    readonly annotations: Record<string, unknown>
  }

  const capture = (lines: Array<Line>) =>
    Layer.merge(
      Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ annotations, logLevel, message }) => {
          lines.push({
            level: logLevel.label,
            message: String(Array.isArray(message) ? message[0] : message),
            annotations: Object.fromEntries(HashMap.toEntries(annotations))
          })
        })
      ),
      Logger.minimumLogLevel(LogLevel.Debug)
    )

  it.scoped("logs heads, state changes and throttled failures of a real node; the table follows list updates", () =>
    Effect.gen(function*() {
      const lines: Array<Line> = []
      const [healthy, flaky] = yield* Effect.all([BeaconNodeServer.make(), BeaconNodeServer.make()])
      yield* Effect.promise(() => flaky.stop())
      const context = yield* Layer.build(
        HeadMonitor.layerNode([healthy.url], {
          retry: { initialDelay: "100 millis", factor: 1, maxDelay: "100 millis", jitter: { min: 1, max: 1 } }
        }).pipe(Layer.merge(SlotClock.layer({ genesisTime: 0, slotDuration: "2 seconds" })))
      )
      const drawn = { written: "" }
      const screen = new Screen({ write: (text: string) => (drawn.written = text) })
      yield* StatusReporter.run({ screen, colors: false }).pipe(Effect.provide(context), Effect.provide(capture(lines)))
      const monitor = Context.get(context, HeadMonitor.HeadMonitor)

      yield* waitFor("the healthy stream", Effect.sync(() => healthy.open === 1))
      healthy.send("head", headData(1))
      yield* waitFor("the new-head line", Effect.sync(() => lines.some((l) => l.message === "new head")))
      expect(lines.find((l) => l.message === "new head")!.annotations).toMatchObject({
        slot: 1,
        first: `[0] ${healthy.url}`
      })

      // The list update shows in the table at once.
      yield* Context.get(context, CandidateList).update([healthy.url, flaky.url])
      yield* waitFor("the table with both nodes", Effect.sync(() => drawn.written.includes(flaky.url)))
      expect(drawn.written).toContain("list v1")

      const flakyState = Effect.map(monitor.status, (all) => all[1]?.state)
      for (let attempt = 1; attempt <= 9; attempt++) {
        yield* waitFor(
          `failure ${attempt}`,
          Effect.map(flakyState, (state) => state?._tag === "Backoff" && state.attempt === attempt)
        )
        if (attempt < 9) yield* TestClock.adjust("100 millis")
      }
      yield* waitFor(
        "the 9th failure's line",
        Effect.sync(() => lines.some((l) => l.message === "stream failed" && l.annotations["failures"] === 9))
      )
      const failures = lines.filter((l) => l.message === "stream failed" && l.annotations["node"] === flaky.url)
      expect(failures.filter((l) => l.level === "WARN").map((l) => l.annotations["failures"])).toEqual([1, 2, 4, 8])
      expect(failures.filter((l) => l.level === "DEBUG").map((l) => l.annotations["failures"])).toEqual([3, 5, 6, 7, 9])
      expect(failures[0]!.annotations).toMatchObject({ reason: "refused", state: "backoff", retryInMs: 100 })
      yield* waitFor("the table's last error", Effect.sync(() => drawn.written.includes("refused (ECONNREFUSED)")))

      // Back: the next attempt opens with the node's first event, and one info line says it recovered.
      yield* Effect.promise(() => flaky.listen())
      yield* TestClock.adjust("100 millis")
      yield* waitFor("the reconnect", Effect.sync(() => flaky.open === 1))
      flaky.send("head", headData(1))
      yield* waitFor("the recovery line", Effect.sync(() => lines.some((l) => l.message === "stream recovered")))
      expect(lines.find((l) => l.message === "stream recovered")!).toMatchObject({
        level: "INFO",
        annotations: { node: flaky.url, index: 1, failures: 9 }
      })

      // Removed while failing and added again: a fresh streak, counted from the failures after it came back.
      yield* Effect.promise(() => flaky.stop())
      yield* waitFor("failing again", Effect.map(flakyState, (state) => state?._tag === "Backoff" && state.attempt === 1))
      yield* Context.get(context, CandidateList).update([healthy.url])
      yield* monitor.awaitReconciled
      const before = lines.length
      yield* Context.get(context, CandidateList).update([healthy.url, flaky.url])
      yield* waitFor("its first failure", Effect.map(flakyState, (state) => state?._tag === "Backoff" && state.attempt === 1))
      yield* Effect.promise(() => flaky.listen())
      yield* TestClock.adjust("100 millis")
      yield* waitFor("the reconnect", Effect.sync(() => flaky.open === 1))
      flaky.send("head", headData(2))
      const recovered = yield* waitFor(
        "the second recovery line",
        Effect.sync(() => lines.slice(before).find((l) => l.message === "stream recovered"))
      )
      expect(recovered.annotations).toMatchObject({ node: flaky.url, index: 1, failures: 1 })
    }))
})
