/**
 * beacon-head-monitor/testing: simulated beacon nodes on loopback and scripted ones in memory, for tests
 * and demonstrations of programs that use the monitor.
 *
 * @since 0.1.0
 */

/** A scriptable beacon node on loopback: events, routes, faults. */
export * as BeaconNodeServer from "./simulator/BeaconNodeServer.js"

/** A simulated devnet: several beacon nodes on loopback sharing one chain, with faults. */
export * as Devnet from "./simulator/Devnet.js"
export * as SimulatedChain from "./simulator/SimulatedChain.js"

/** Scripted beacon nodes in memory: the stream transport and the HTTP client for tests on the TestClock. */
export * as InMemoryTransport from "./stream/InMemoryTransport.js"
