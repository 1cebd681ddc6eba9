/**
 * Polls the health of every candidate beacon node and ranks them, so that
 * requests go to the best node first.
 *
 * Once per slot, `lookahead` before the slot boundary (so the order is fresh
 * when the next slot's duties start; Lighthouse polls 2 s before it), every
 * node is asked `GET /eth/v1/node/syncing`. A node that joins the list is asked
 * at once. The network check (`GET /eth/v1/config/spec`, see `Network`) runs
 * once per connection: when a node is first polled, and again after it was
 * unreachable or found on another network. The expected network is the given
 * one, or else the network of the first node in list order that answered the
 * first poll.
 *
 * The sync distance is the larger of what the node reports and what the slot
 * clock says (current slot minus the node's head slot): a node whose own clock
 * lags cannot look synced.
 *
 * Health follows the candidate list: a new node is `Unknown` until polled, a
 * removed node vanishes, and a poll that ends after its node was removed is
 * dropped.
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import {
  Context,
  Duration,
  Effect,
  FiberSet,
  HashMap,
  Layer,
  Option,
  Ref,
  Schema,
  type Scope,
  Stream
} from "effect"
import { CandidateList } from "../candidates/CandidateList.js"
import { Uint64String } from "../events/BeaconEvent.js"
import type { BeaconNode, BeaconNodeId } from "../node/BeaconNode.js"
import { getJson, type NodeRequestError } from "../requests/NodeRequest.js"
import * as HealthTier from "./HealthTier.js"
import * as Network from "./Network.js"
import { HealthState, type NodeHealth, sort } from "./NodeHealth.js"
import { SlotClock } from "./SlotClock.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface HealthOptions {
  /** Sync-distance tiers (default Lighthouse's 8, 8, 48). */
  readonly tiers?: HealthTier.SyncDistanceTiers
  /** How long before each slot boundary to poll (default a sixth of the slot: 2 s on mainnet). */
  readonly lookahead?: Duration.DurationInput
  /** Limit of each health request (default the lookahead). */
  readonly requestTimeout?: Duration.DurationInput
  /** The network the nodes must be on (default: the first answering node's, see the module notes). */
  readonly network?: Network.Network
}

/**
 * @since 0.1.0
 * @category models
 */
export interface HealthPollerService {
  /** Every candidate's health, in candidate-list order. */
  readonly health: Effect.Effect<ReadonlyArray<NodeHealth>>
  /** Every candidate's health, best first (the order requests try them in). */
  readonly byHealth: Effect.Effect<ReadonlyArray<NodeHealth>>
  /** The candidates, best first. */
  readonly candidatesByHealth: Effect.Effect<ReadonlyArray<BeaconNode>>
  /** Polls every candidate now and waits for the answers. */
  readonly refresh: Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class HealthPoller extends Context.Tag("beacon-head-monitor/HealthPoller")<
  HealthPoller,
  HealthPollerService
>() {}

const SyncingResponse = Schema.Struct({
  data: Schema.Struct({
    head_slot: Uint64String,
    sync_distance: Uint64String,
    is_optimistic: Schema.optionalWith(Schema.Boolean, { default: () => false }),
    el_offline: Schema.optionalWith(Schema.Boolean, { default: () => false })
  })
})

interface Entry {
  readonly state: HealthState
  /** The network check passed and the node has answered every poll since. */
  readonly networkChecked: boolean
}

/** What one poll of one node found. */
type Outcome =
  | { readonly _tag: "Failed"; readonly error: NodeRequestError }
  | {
    readonly _tag: "Answered"
    readonly spec: Option.Option<Network.Network>
    readonly syncing: typeof SyncingResponse.Type["data"]
  }

/** One log line when a node's state changes: a warning when it stops being usable, info when it is online again. */
const logTransition = (node: BeaconNode, state: HealthState): Effect.Effect<void> =>
  HealthState.$match(state, {
    Unknown: () => Effect.void,
    Online: (s) =>
      Effect.logInfo("beacon node online").pipe(
        Effect.annotateLogs({ node: node.display, tier: s.tier.tier, syncDistance: s.tier.syncDistance })
      ),
    Unreachable: (s) =>
      Effect.logWarning("beacon node unreachable").pipe(Effect.annotateLogs({ node: node.display, reason: s.reason })),
    Incompatible: (s) =>
      Effect.logWarning("beacon node is on another network, not used").pipe(
        Effect.annotateLogs({ node: node.display, reason: s.reason })
      )
  })

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: HealthOptions = {}
): Effect.Effect<HealthPollerService, never, Scope.Scope | CandidateList | SlotClock | HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const candidates = yield* CandidateList
    const slotClock = yield* SlotClock
    const tiers = options.tiers ?? HealthTier.defaultTiers
    const lookahead = Duration.toMillis(options.lookahead ?? Duration.millis(Duration.toMillis(slotClock.slotDuration) / 6))
    const timeout = options.requestTimeout ?? Duration.millis(lookahead)
    const entries = yield* Ref.make(HashMap.empty<BeaconNodeId, Entry>())
    const expected = yield* Ref.make(Option.fromNullable(options.network))
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const background = yield* FiberSet.make()
    // One round at a time: two rounds at once would both see a node as unchecked and ask its spec twice.
    const lock = yield* Effect.makeSemaphore(1)

    const poll = (node: BeaconNode, entry: Entry | undefined): Effect.Effect<Outcome> =>
      Effect.gen(function*() {
        const spec = entry?.networkChecked === true
          ? Option.none()
          : Option.some(Network.fromSpec((yield* getJson(node, "/eth/v1/config/spec", Network.SpecResponse, { timeout })).data))
        const syncing = yield* getJson(node, "/eth/v1/node/syncing", SyncingResponse, { timeout })
        return { _tag: "Answered", spec, syncing: syncing.data } as const
      }).pipe(
        Effect.catchAll((error) => Effect.succeed({ _tag: "Failed", error } as const)),
        Effect.provide(context)
      )

    const judge = (outcome: Outcome, network: Option.Option<Network.Network>, now: number, currentSlot: number): Entry => {
      if (outcome._tag === "Failed") {
        return { state: HealthState.Unreachable({ reason: outcome.error.message, checkedAt: now }), networkChecked: false }
      }
      if (Option.isSome(outcome.spec) && Option.isSome(network)) {
        const reason = Network.mismatch(network.value, outcome.spec.value)
        if (reason !== undefined) return { state: HealthState.Incompatible({ reason, checkedAt: now }), networkChecked: false }
      }
      const { el_offline, head_slot, is_optimistic, sync_distance } = outcome.syncing
      const syncDistance = Math.max(sync_distance, currentSlot - head_slot, 0)
      return {
        state: HealthState.Online({
          tier: HealthTier.healthTier(tiers, { syncDistance, optimistic: is_optimistic, elOffline: el_offline }),
          headSlot: head_slot,
          optimistic: is_optimistic,
          elOffline: el_offline,
          checkedAt: now
        }),
        networkChecked: true
      }
    }

    /** Polls the nodes concurrently, then judges them all against one expected network. */
    const round = (nodes: ReadonlyArray<BeaconNode>) =>
      lock.withPermits(1)(Effect.gen(function*() {
        const known = yield* Ref.get(entries)
        const outcomes = yield* Effect.forEach(
          nodes,
          (node) => poll(node, Option.getOrUndefined(HashMap.get(known, node.id))),
          { concurrency: "unbounded" }
        )
        // The first node in list order that answered sets the network, if none was given or set before.
        const firstSpec = outcomes.flatMap((o) => o._tag === "Answered" && Option.isSome(o.spec) ? [o.spec.value] : [])[0]
        const network = yield* Ref.updateAndGet(
          expected,
          (current) => Option.isNone(current) && firstSpec !== undefined ? Option.some(firstSpec) : current
        )
        const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
        const list = yield* candidates.get
        const changed = yield* Ref.modify(entries, (map) => {
          const transitions: Array<readonly [BeaconNode, HealthState]> = []
          let next = map
          nodes.forEach((node, i) => {
            // A node removed while it was polled stays removed.
            if (!list.positions.has(node.id)) return
            const entry = judge(outcomes[i]!, network, now, slotClock.slotAt(now))
            const before = Option.getOrUndefined(HashMap.get(map, node.id))
            if (before?.state._tag !== entry.state._tag) transitions.push([node, entry.state])
            next = HashMap.set(next, node.id, entry)
          })
          return [transitions, next] as const
        })
        yield* Effect.forEach(changed, ([node, state]) => logTransition(node, state), { discard: true })
      }))

    // Nodes already given a first round, judged or not yet: an update that lands while that round runs must not poll them again.
    let scheduled = new Set<BeaconNodeId>()
    const follow = candidates.changes.pipe(
      Stream.runForEach((list) =>
        Effect.gen(function*() {
          const keep = new Set(list.nodes.map((node) => node.id))
          yield* Ref.update(entries, HashMap.filter((_, id) => keep.has(id)))
          const added = list.nodes.filter((node) => !scheduled.has(node.id))
          scheduled = keep
          if (added.length > 0) yield* FiberSet.run(background, round(added))
        })
      )
    )

    const everySlot = Effect.gen(function*() {
      const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
      const slotMillis = Duration.toMillis(slotClock.slotDuration)
      let next = slotClock.startOf(slotClock.slotAt(now) + 1) - lookahead
      if (next <= now) next += slotMillis
      yield* Effect.sleep(next - now)
      yield* Effect.flatMap(candidates.get, (list) => round(list.nodes))
    }).pipe(Effect.forever)

    yield* Effect.forkScoped(follow)
    yield* Effect.forkScoped(everySlot)

    const health = Effect.gen(function*() {
      const list = yield* candidates.get
      const map = yield* Ref.get(entries)
      return list.nodes.map((node, index): NodeHealth => ({
        node,
        index,
        state: Option.match(HashMap.get(map, node.id), {
          onNone: () => HealthState.Unknown(),
          onSome: (entry) => entry.state
        })
      }))
    })
    const byHealth = Effect.map(health, sort)
    return {
      health,
      byHealth,
      candidatesByHealth: Effect.map(byHealth, (sorted) => sorted.map((h) => h.node)),
      refresh: Effect.flatMap(candidates.get, (list) => round(list.nodes))
    }
  })

/**
 * The health service. Needs the candidate list, a slot clock and an HTTP client.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: HealthOptions
): Layer.Layer<HealthPoller, never, CandidateList | SlotClock | HttpClient.HttpClient> =>
  Layer.scoped(HealthPoller, make(options))
