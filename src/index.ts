/**
 * beacon-head-monitor: follows the head of the Ethereum chain as seen by
 * several beacon nodes at once.
 *
 * Each module is exported as a namespace, Effect style: `HeadMonitor.HeadMonitor`
 * is the service tag, `HeadMonitor.layer` its layer. The simulated beacon nodes
 * for tests are in the `beacon-head-monitor/testing` entry.
 *
 * @since 0.1.0
 */

/** Identity of a beacon node: normalised URL and secret-free display form. */
export * as BeaconNode from "./node/BeaconNode.js"

/** What goes with every request to a node: extra headers (secrets) and trusted CA certificates. */
export * as RequestOptions from "./node/RequestOptions.js"

/** Schemas and decoding of the events a beacon node sends. */
export * as BeaconEvent from "./events/BeaconEvent.js"

/** Tuning: retry policy, stall watchdog, limits. */
export * as MonitorConfig from "./config/MonitorConfig.js"

/** The ordered list of nodes to follow, replaceable at runtime. */
export * as CandidateList from "./candidates/CandidateList.js"

/** One connection to a node's event stream, the transport it goes through, why connections end, and the stall watchdog connections can share. */
export * as BeaconEventStream from "./stream/BeaconEventStream.js"
export * as StreamTransport from "./stream/StreamTransport.js"
export * as NodeStreamTransport from "./stream/NodeStreamTransport.js"
export * as BeaconStreamError from "./stream/BeaconStreamError.js"
export * as RetryPolicy from "./stream/RetryPolicy.js"
export * as Watchdog from "./stream/Watchdog.js"

/**
 * The latest head of every node, keyed by node identity: the read-only view the monitor provides, and the full
 * cache service for programs that build their own (`HeadMonitor.layerWithCache`).
 */
export * as HeadCacheView from "./cache/HeadCacheView.js"
export * as BeaconHeadCache from "./cache/BeaconHeadCache.js"
export * as ConsensusView from "./cache/ConsensusView.js"

/** The monitor: one supervised fiber per node, head events and status. */
export * as HeadMonitor from "./monitor/HeadMonitor.js"
export * as HeadEvent from "./monitor/HeadEvent.js"
export * as ReorgEvent from "./monitor/ReorgEvent.js"
export * as NodeStatus from "./monitor/NodeStatus.js"

/** The admin HTTP API (Lighthouse-compatible routes), its bearer token, wire schemas (`HealthReport` is the health answer) and errors. */
export * as AdminApi from "./admin/AdminApi.js"
export * as AdminApiError from "./admin/AdminApiError.js"
export * as ApiToken from "./admin/ApiToken.js"
export * as HealthReport from "./admin/HealthReport.js"
export * as HeadsView from "./admin/HeadsView.js"
export * as BeaconUpdate from "./admin/BeaconUpdate.js"

/** When each node's heads arrive after their slot's start: per slot, first seen, p50/p95, late heads. */
export * as ArrivalStats from "./arrivals/ArrivalStats.js"
export * as ArrivalsView from "./admin/ArrivalsView.js"

/** The live page the admin server serves: its files and its feed. */
export * as Dashboard from "./dashboard/Dashboard.js"
export * as DashboardFeed from "./dashboard/DashboardFeed.js"
export * as PageAssets from "./dashboard/PageAssets.js"

/** Prometheus metrics of the monitor and the /metrics endpoint. */
export * as Metrics from "./metrics/Metrics.js"

/** Health of every node (the `HealthPoller` service; Lighthouse's tiers), the slot clock, the network check. */
export * as HealthPoller from "./health/HealthPoller.js"
export * as HealthTier from "./health/HealthTier.js"
export * as NodeHealth from "./health/NodeHealth.js"
export * as Network from "./health/Network.js"
export * as SlotClock from "./health/SlotClock.js"

/** One REST request to a node, the client that makes it, and asking nodes one at a time in a given order. */
export * as NodeRequest from "./requests/NodeRequest.js"
export * as NodeClient from "./requests/NodeClient.js"
export * as InOrder from "./requests/InOrder.js"
/** The chain's slot length: configured, or read from the nodes' spec. */
export * as SlotDuration from "./requests/SlotDuration.js"

/** Routing requests: best node first with fallback, waiting for a slot's head, head-cache queries. */
export * as FirstSuccess from "./routing/FirstSuccess.js"
export * as WaitForHead from "./routing/WaitForHead.js"
export * as HeadQueries from "./routing/HeadQueries.js"
