/**
 * Prometheus metrics of the monitor, in the text exposition format, with
 * prom-client (the maintained Node.js exporter) doing the serialisation.
 *
 * Per-node values are not kept twice: the monitor already counts everything
 * per node (`NodeStatus.counters`), so each scrape reads one status snapshot
 * and the metrics' `collect` callbacks copy it (arrival counts likewise from
 * `ArrivalStats`). Only the two delay histograms are fed as heads arrive. Nodes are labelled with their display URL (secrets
 * removed) and their list position: two entries that differ only in a secret
 * have one display form, and must not add up into one series. A node that
 * leaves the list leaves the metrics at the next scrape.
 *
 * @since 0.1.0
 */
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Context, Duration, Effect, Layer, type Scope, Stream } from "effect"
import { createServer } from "node:http"
import * as Prometheus from "prom-client"
import { ArrivalStats, type NodeArrivals } from "../arrivals/ArrivalStats.js"
import { CandidateList } from "../candidates/CandidateList.js"
import { HeadMonitor } from "../monitor/HeadMonitor.js"
import { connectionStates, type NodeStatus, probeOutcomes } from "../monitor/NodeStatus.js"
import { disconnectReasons } from "../stream/BeaconStreamError.js"
import { FirstSeen } from "./FirstSeen.js"

/**
 * Prefix of every metric name.
 *
 * @since 0.1.0
 */
export const prefix = "beacon_head_monitor_"

/**
 * Upper bounds (seconds) of the head-delay histogram: peered nodes are milliseconds apart, a struggling one a good
 * part of a slot. Fixed below a twelfth of the slot, then 1/12, 1/6, 1/3 and 2/3 of the chain's slot (1, 2, 4, 8 s
 * on mainnet).
 */
const delayBuckets = (slot: Duration.Duration): ReadonlyArray<number> => {
  const seconds = Duration.toMillis(slot) / 1000
  const fractions = [1 / 12, 1 / 6, 1 / 3, 2 / 3].map((fraction) => seconds * fraction)
  return [...[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5].filter((bound) => bound < fractions[0]!), ...fractions]
}

/**
 * Upper bounds (seconds) of the arrival histogram, as fractions of the chain's slot: 1/24 … 2/3 of it, the whole
 * slot and two (0.5, 1, 2, 3, 4, 6, 8, 12, 24 s on mainnet); the attestation deadline (1/3) is one of them.
 */
const arrivalBuckets = (slotMillis: number): ReadonlyArray<number> =>
  // Multiplied, then divided: exact bounds where the slot allows (12 s / 3 is 4, not 12 × 0.333…).
  ([[1, 24], [1, 12], [1, 6], [1, 4], [1, 3], [1, 2], [2, 3], [1, 1], [2, 1]] as const).map(([times, per]) =>
    slotMillis * times / per / 1000
  )

/**
 * @since 0.1.0
 * @category models
 */
export interface MetricsService {
  /** The exposition text of a scrape. */
  readonly scrape: Effect.Effect<string>
  /** `Content-Type` of `scrape`. */
  readonly contentType: string
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Metrics extends Context.Tag("beacon-head-monitor/Metrics")<Metrics, MetricsService>() {}

/** A node's labels: its display form alone could be shared by two entries that differ only in a secret. */
const nodeLabels = (status: { readonly index: number; readonly node: { readonly display: string } }) => ({
  index: String(status.index),
  node: status.node.display
})

interface Snapshot {
  readonly nodes: ReadonlyArray<NodeStatus>
  readonly arrivals: ReadonlyArray<NodeArrivals>
  readonly fibers: number
  readonly listVersion: number
}

/**
 * The registry and its collectors; the histogram is fed for as long as the scope lives.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<
  MetricsService,
  never,
  HeadMonitor | CandidateList | ArrivalStats | Scope.Scope
> = Effect.gen(
  function*() {
    const monitor = yield* HeadMonitor
    const candidates = yield* CandidateList
    const arrivalStats = yield* ArrivalStats
    const registry = new Prometheus.Registry()
    Prometheus.collectDefaultMetrics({ register: registry })
    let snapshot: Snapshot = { nodes: [], arrivals: [], fibers: 0, listVersion: 0 }

    /** A counter per node, copied at each scrape from the rows of the snapshot that `rows` picks. */
    const counterOf = <Row extends { readonly index: number; readonly node: { readonly display: string } }>(
      rows: (snapshot: Snapshot) => ReadonlyArray<Row>
    ) =>
    (name: string, help: string, value: (row: Row) => number) =>
      new Prometheus.Counter({
        name: `${prefix}${name}`,
        help,
        labelNames: ["index", "node"],
        registers: [registry],
        collect() {
          this.reset()
          for (const row of rows(snapshot)) this.inc(nodeLabels(row), value(row))
        }
      })
    const perNode = counterOf((current) => current.nodes)
    const perNodeArrivals = counterOf((current) => current.arrivals)

    perNode("node_connects_total", "Connections answered 200 with an event stream.", (s) => s.counters.connects)
    perNode("node_stalls_total", "Connections dropped by the stall watchdog.", (s) => s.counters.disconnects.stalled)
    perNode("node_invalid_events_total", "Invalid (poison) events dropped.", (s) => s.counters.invalidEvents)
    perNode(
      "node_optimistic_heads_skipped_total",
      "Heads skipped because the node's execution layer was optimistic.",
      (s) => s.counters.optimisticHeadsSkipped
    )
    perNode("node_heads_total", "Valid, non-optimistic head events.", (s) => s.counters.heads)
    perNode("node_chain_reorgs_total", "chain_reorg events.", (s) => s.counters.chainReorgs)

    /** A per-node counter split by one more label, whose values are `keys`. */
    const perNodeBy = <K extends string>(
      name: string,
      help: string,
      label: string,
      keys: ReadonlyArray<K>,
      value: (status: NodeStatus) => Readonly<Record<K, number>>
    ) =>
      new Prometheus.Counter({
        name: `${prefix}${name}`,
        help,
        labelNames: ["index", "node", label],
        registers: [registry],
        collect() {
          this.reset()
          for (const status of snapshot.nodes) {
            const values = value(status)
            for (const key of keys) this.inc({ ...nodeLabels(status), [label]: key }, values[key])
          }
        }
      })
    perNodeBy("node_disconnects_total", "Connections lost, by reason.", "reason", disconnectReasons, (s) =>
      s.counters.disconnects)
    perNodeBy(
      "node_probes_total",
      "Silent connections judged by asking the node for its head, by outcome (quiet: kept; advanced, unanswered: dropped).",
      "outcome",
      probeOutcomes,
      (s) => s.counters.probes
    )

    new Prometheus.Gauge({
      name: `${prefix}node_state`,
      help: "1 for the node's current connection state, 0 for the others.",
      labelNames: ["index", "node", "state"],
      registers: [registry],
      collect() {
        this.reset()
        for (const status of snapshot.nodes) {
          for (const state of connectionStates) this.set({ ...nodeLabels(status), state }, status.state._tag === state ? 1 : 0)
        }
      }
    })

    new Prometheus.Gauge({
      name: `${prefix}node_head_slot`,
      help: "Slot of the node's latest head (absent while the node has none).",
      labelNames: ["index", "node"],
      registers: [registry],
      collect() {
        this.reset()
        for (const status of snapshot.nodes) {
          if (status.head !== undefined) this.set(nodeLabels(status), status.head.slot)
        }
      }
    })

    perNodeArrivals(
      "node_first_seen_total",
      "Slots this node's head reached the monitor before every other node's.",
      (node) => node.firstSeen.total
    )
    perNodeArrivals(
      "node_late_heads_total",
      "Heads that arrived after the attestation deadline (a third into their slot).",
      (node) => node.lateHeads.total
    )

    /** A histogram per node, fed as heads arrive; a node's series go at the scrape after it left or moved. */
    const perNodeHistogram = (name: string, help: string, buckets: ReadonlyArray<number>) => {
      // Series the histogram holds, by their labels joined.
      const observed = new Map<string, { readonly index: string; readonly node: string }>()
      const seriesKey = (labels: { readonly index: string; readonly node: string }) => `${labels.index} ${labels.node}`
      const histogram = new Prometheus.Histogram({
        name: `${prefix}${name}`,
        help,
        labelNames: ["index", "node"],
        buckets: [...buckets],
        registers: [registry],
        collect() {
          const current = new Set(snapshot.nodes.map((status) => seriesKey(nodeLabels(status))))
          for (const [key, labels] of observed) {
            if (current.has(key)) continue
            this.remove(labels)
            observed.delete(key)
          }
        }
      })
      return (node: { readonly index: number; readonly node: { readonly display: string } }, seconds: number) => {
        const labels = nodeLabels(node)
        observed.set(seriesKey(labels), labels)
        histogram.observe(labels, seconds)
      }
    }
    const observeDelay = perNodeHistogram(
      "node_head_delay_seconds",
      "How long after the first node to see a slot this node saw it (0 for the first).",
      delayBuckets(monitor.options.slotDuration)
    )
    const observeArrival = perNodeHistogram(
      "node_head_arrival_seconds",
      "How long after its slot's start each head arrived (clamped at 0).",
      arrivalBuckets(arrivalStats.slotMillis)
    )

    new Prometheus.Gauge({
      name: `${prefix}node_fibers`,
      help: "Node fibers running (one per node once a list update is reconciled).",
      registers: [registry],
      collect() {
        this.set(snapshot.fibers)
      }
    })

    new Prometheus.Counter({
      name: `${prefix}candidate_list_updates_total`,
      help: "Accepted updates of the beacon node list.",
      registers: [registry],
      collect() {
        this.reset()
        this.inc(snapshot.listVersion)
      }
    })

    new Prometheus.Gauge({
      name: `${prefix}candidate_list_nodes`,
      help: "Beacon nodes in the current list.",
      registers: [registry],
      collect() {
        this.set(snapshot.nodes.length)
      }
    })

    const firstSeen = new FirstSeen()
    const heads = yield* monitor.subscribe
    yield* heads.pipe(
      Stream.runForEach((event) =>
        Effect.sync(() => {
          const millis = firstSeen.record(event)
          if (millis !== undefined) observeDelay(event, millis / 1000)
        })
      ),
      Effect.forkScoped
    )
    const arrivals = yield* arrivalStats.subscribe
    yield* arrivals.pipe(
      Stream.runForEach((arrival) => Effect.sync(() => observeArrival(arrival, Math.max(0, arrival.delay) / 1000))),
      Effect.forkScoped
    )

    // One scrape at a time: the collectors read the snapshot that this scrape took.
    const lock = yield* Effect.makeSemaphore(1)
    const scrape = Effect.gen(function*() {
      snapshot = {
        nodes: yield* monitor.status,
        arrivals: (yield* arrivalStats.snapshot).nodes,
        fibers: yield* monitor.fiberCount,
        listVersion: (yield* candidates.get).version
      }
      return yield* Effect.promise(() => registry.metrics())
    }).pipe(lock.withPermits(1))

    return { scrape, contentType: registry.contentType }
  }
)

/**
 * The metrics service, without a server.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Metrics, never, HeadMonitor | CandidateList | ArrivalStats> = Layer.scoped(
  Metrics,
  make
)

/**
 * @since 0.1.0
 * @category models
 */
export interface MetricsServerOptions {
  /** Interface to listen on (default 127.0.0.1). */
  readonly host?: string
  /** Port (default 5064; 0 picks a free one). */
  readonly port?: number
}

/**
 * The running endpoint.
 *
 * @since 0.1.0
 * @category models
 */
export interface MetricsServerService {
  /** Base URL, e.g. `http://127.0.0.1:5064`; the metrics are at `/metrics`. */
  readonly url: string
}

/**
 * @since 0.1.0
 * @category tags
 */
export class MetricsServer extends Context.Tag("beacon-head-monitor/MetricsServer")<
  MetricsServer,
  MetricsServerService
>() {}

const router = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/metrics",
    Effect.flatMap(Metrics, (metrics) =>
      Effect.map(metrics.scrape, (text) =>
        HttpServerResponse.text(text, { contentType: metrics.contentType })))
  )
)

/**
 * Serves `GET /metrics` on `node:http` (anything else is 404) for as long as the layer lives.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerServer = (
  options: MetricsServerOptions = {}
): Layer.Layer<MetricsServer, ServeError, HeadMonitor | CandidateList | ArrivalStats> =>
  Layer.scoped(
    MetricsServer,
    Effect.gen(function*() {
      yield* HttpServer.serveEffect(
        router.pipe(Effect.catchTag("RouteNotFound", () => HttpServerResponse.text("not found", { status: 404 })))
      )
      const url = yield* HttpServer.addressFormattedWith((address) => Effect.succeed(address))
      yield* Effect.logInfo("metrics listening").pipe(Effect.annotateLogs({ url: `${url}/metrics` }))
      return { url }
    })
  ).pipe(
    Layer.provide(layer),
    Layer.provide(NodeHttpServer.layer(() => createServer(), {
      host: options.host ?? "127.0.0.1",
      port: options.port ?? 5064
    }))
  )
