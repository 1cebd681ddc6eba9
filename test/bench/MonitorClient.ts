/**
 * The monitor as a benchmark drives it: built from `HeadMonitor.layerNode`,
 * subscribed before any event is sent, with a plain callback per head event.
 */
import { Effect, ManagedRuntime, Scope, Stream } from "effect"
import { CandidateList } from "../../src/candidates/CandidateList.js"
import type { MonitorOptionsInput } from "../../src/config/MonitorConfig.js"
import type { HeadEvent } from "../../src/monitor/HeadEvent.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import type { NodeStatus } from "../../src/monitor/NodeStatus.js"

export interface MonitorClient {
  readonly status: () => Promise<ReadonlyArray<NodeStatus>>
  readonly fiberCount: () => Promise<number>
  /** Replaces the candidate list and waits until it is reconciled. */
  readonly update: (urls: ReadonlyArray<string>) => Promise<void>
  readonly close: () => Promise<void>
}

export const start = async (
  urls: ReadonlyArray<string>,
  options: MonitorOptionsInput,
  onHead: (event: HeadEvent) => void
): Promise<MonitorClient> => {
  const runtime = ManagedRuntime.make(HeadMonitor.layerNode(urls, { ...options, maxCandidates: 4096 }))
  const monitor = await runtime.runPromise(HeadMonitor.HeadMonitor)
  const scope = await runtime.runPromise(Scope.make())
  const heads = await runtime.runPromise(Scope.extend(monitor.subscribe, scope))
  runtime.runFork(Stream.runForEach(heads, (event) => Effect.sync(() => onHead(event))))
  return {
    status: () => runtime.runPromise(monitor.status),
    fiberCount: () => runtime.runPromise(monitor.fiberCount),
    update: (next) =>
      runtime.runPromise(Effect.zipRight(Effect.flatMap(CandidateList, (list) => list.update(next)), monitor.awaitReconciled)),
    close: () => runtime.dispose()
  }
}
