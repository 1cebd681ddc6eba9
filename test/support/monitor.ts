/** Running a head monitor over scripted servers in tests. */
import { Effect, Random, type Scope } from "effect"
import type { InvalidCandidateList } from "../../src/candidates/CandidateList.js"
import type { InvalidRequestOptions } from "../../src/node/RequestOptions.js"
import type { MonitorOptionsInput } from "../../src/config/MonitorConfig.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import type { BeaconNodeServer } from "../../src/simulator/BeaconNodeServer.js"

/**
 * Runs `body` with a monitor following `servers` (reconciled first), with jitter pinned: `random` 0.5 makes the
 * jitter factor exactly 1, so delays are exact.
 */
export const withMonitor = <A, E>(
  servers: ReadonlyArray<Pick<BeaconNodeServer, "url">>,
  body: (monitor: HeadMonitor.HeadMonitorService) => Effect.Effect<A, E, Scope.Scope>,
  options?: MonitorOptionsInput,
  random = 0.5
): Effect.Effect<A, E | InvalidCandidateList | InvalidRequestOptions, Scope.Scope> =>
  HeadMonitor.HeadMonitor.pipe(
    Effect.tap((monitor) => monitor.awaitReconciled),
    Effect.flatMap(body),
    Effect.provide(HeadMonitor.layerNode(servers.map((server) => server.url), options)),
    Effect.withRandom(Random.fixed([random]))
  )

/** The status of the node a server plays. */
export const statusOf = (monitor: HeadMonitor.HeadMonitorService, server: Pick<BeaconNodeServer, "url">) =>
  Effect.map(monitor.status, (all) => all.find((status) => status.node.display === server.url)!)
