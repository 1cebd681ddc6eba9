/**
 * The latest head of every beacon node, keyed by node identity (never by list
 * position, so a list change cannot make one node's head look like another's).
 *
 * A keyed `Ref`: every operation is one atomic `Ref` update, so the node fibers
 * that write and the consumers that read need no lock. The `unsafe` forms do
 * the same synchronously, for a socket's callback, where the monitor handles
 * each chunk of events without running an effect.
 *
 * @since 0.1.0
 */
import { Context, Effect, HashMap, Layer, Option, Ref } from "effect"
import type { Root } from "../events/BeaconEvent.js"
import { SyncRef } from "../internal/SyncRef.js"
import type { BeaconNode, BeaconNodeId } from "../node/BeaconNode.js"

/**
 * A node's head as cached.
 *
 * @since 0.1.0
 * @category models
 */
export interface CachedHead {
  readonly node: BeaconNode
  readonly slot: number
  readonly block: Root
  /** When the head arrived, in epoch milliseconds of the effect `Clock`. */
  readonly receivedAt: number
  /** `event` for a live `head` event, `seed` when read from the node on connect, `reorg` from a `chain_reorg`. */
  readonly source: "event" | "seed" | "reorg"
}

/**
 * What an insert did to the node's entry:
 * - `new`: the head advanced the node (or it had none);
 * - `replaced`: same slot, another block: a reorg at the tip;
 * - `duplicate`: same slot and block again: kept the earlier arrival (the first live
 *   event of a head known only from a seed is `new`);
 * - `replayed`: an older slot (a node re-syncing after a restart): ignored.
 *
 * @since 0.1.0
 * @category models
 */
export type InsertOutcome = "new" | "replaced" | "duplicate" | "replayed"

/**
 * @since 0.1.0
 * @category models
 */
export interface InsertResult {
  readonly outcome: InsertOutcome
  /** True when no node had reported this slot or a later one live before (seeds do not count): this node saw it first. */
  readonly first: boolean
}

/**
 * @since 0.1.0
 * @category models
 */
export interface BeaconHeadCacheService {
  readonly get: (id: BeaconNodeId) => Effect.Effect<Option.Option<CachedHead>>
  /** Keeps the node's newest head: an older slot or a repeat does not overwrite it. */
  readonly insert: (head: CachedHead) => Effect.Effect<InsertResult>
  /** `insert` of each head in turn, in one update: a chunk of events costs one `Ref` update. */
  readonly insertAll: (heads: ReadonlyArray<CachedHead>) => Effect.Effect<ReadonlyArray<InsertResult>>
  /** Puts the head in unconditionally (e.g. after a reorg moved the node to a lower slot). */
  readonly set: (head: CachedHead) => Effect.Effect<void>
  /** As in Lighthouse: the slot is at least every cached slot. */
  readonly isLatest: (head: { readonly slot: number }) => Effect.Effect<boolean>
  readonly remove: (id: BeaconNodeId) => Effect.Effect<void>
  readonly purge: Effect.Effect<void>
  /** Keeps only the given nodes. */
  readonly retain: (ids: Iterable<BeaconNodeId>) => Effect.Effect<void>
  /** Slot descending, then earliest arrival first (then node id, so that the order is total). */
  readonly newestFirst: Effect.Effect<ReadonlyArray<CachedHead>>
  /** The first two of `newestFirst` (fewer if the cache holds fewer), in one pass without sorting. */
  readonly leaders: Effect.Effect<ReadonlyArray<CachedHead>>
  readonly size: Effect.Effect<number>
  /** `get`, synchronously (for callbacks outside any fiber). */
  readonly unsafeGet: (id: BeaconNodeId) => CachedHead | undefined
  /** `insert`, synchronously. */
  readonly unsafeInsert: (head: CachedHead) => InsertResult
  /** `insertAll`, synchronously. */
  readonly unsafeInsertAll: (heads: ReadonlyArray<CachedHead>) => ReadonlyArray<InsertResult>
  /** `set`, synchronously. */
  readonly unsafeSet: (head: CachedHead) => void
  /** `leaders`, synchronously. */
  readonly unsafeLeaders: () => ReadonlyArray<CachedHead>
}

/**
 * The cache's value. The two newest heads (`newestFirst`'s first two) are kept beside the map: every status answer
 * reads them, and a list change publishes two statuses per new node (connecting, open); one pass over 1,000 heads
 * each time was a tenth of a list change's CPU and much of its garbage. They follow from the leaders before most
 * writes (see `withLeaders`); when they do not, they are worked out on the first read of that state.
 */
class State {
  constructor(
    readonly heads: HashMap.HashMap<BeaconNodeId, CachedHead>,
    /** Highest slot any node ever reported live; never lowered, so "first" stays first after removals. */
    readonly highestSlot: number,
    /** `undefined`: not known yet. Set once, on first read: the state is immutable, so it stays true. */
    private known: ReadonlyArray<CachedHead> | undefined
  ) {}

  get leaders(): ReadonlyArray<CachedHead> {
    return this.known ??= leadersIn(this.heads)
  }

  /** The leaders after `head` was written, without a pass over the map when they follow from the known ones. */
  leadersWith(head: CachedHead): ReadonlyArray<CachedHead> | undefined {
    return this.known === undefined ? undefined : withLeader(this.known, head)
  }
}

const empty = new State(HashMap.empty(), -1, [])

const classify = (previous: CachedHead | undefined, head: CachedHead): InsertOutcome => {
  if (previous === undefined || head.slot > previous.slot) return "new"
  if (head.slot < previous.slot) return "replayed"
  if (head.block !== previous.block) return "replaced"
  // A seed is not an observation: the first live event of a seeded head is still new.
  return previous.source === "seed" && head.source !== "seed" ? "new" : "duplicate"
}

/** What writing `head` over the node's entry `previous` does, `highestSlot` being the highest slot seen live before. */
const resultOf = (previous: CachedHead | undefined, head: CachedHead, highestSlot: number): InsertResult => ({
  outcome: classify(previous, head),
  first: head.source !== "seed" && head.slot > highestSlot
})

/** A head kept in place of the node's entry: it advanced the node, or replaced its block at the same slot. */
const isKept = ({ outcome }: InsertResult): boolean => outcome === "new" || outcome === "replaced"

/** Seeds do not count as seeing a slot: they must not take "first" from the node whose live event comes next. */
const raise = (highest: number, head: CachedHead): number => head.source === "seed" ? highest : Math.max(highest, head.slot)

const byNewest = (a: CachedHead, b: CachedHead): number =>
  b.slot - a.slot || a.receivedAt - b.receivedAt || (a.node.id < b.node.id ? -1 : a.node.id > b.node.id ? 1 : 0)

/** The first two of the heads by `byNewest`, in one pass. */
const leadersIn = (heads: HashMap.HashMap<BeaconNodeId, CachedHead>): ReadonlyArray<CachedHead> => {
  let first: CachedHead | undefined
  let second: CachedHead | undefined
  for (const head of HashMap.values(heads)) {
    if (first === undefined || byNewest(head, first) < 0) {
      second = first
      first = head
    } else if (second === undefined || byNewest(head, second) < 0) second = head
  }
  return first === undefined ? [] : second === undefined ? [first] : [first, second]
}

/**
 * The leaders once `head` replaced its node's entry, when they follow from `leaders`: a head that ranks at least as
 * high as the node's own before can only join them. A leader that now ranks lower (a later arrival at its slot, a
 * lower slot) might be passed by a third node: then `undefined`, worked out when read.
 */
const withLeader = (leaders: ReadonlyArray<CachedHead>, head: CachedHead): ReadonlyArray<CachedHead> | undefined => {
  const id = head.node.id
  const [a, b] = leaders
  const own = a?.node.id === id ? a : b?.node.id === id ? b : undefined
  if (own !== undefined && byNewest(head, own) > 0) return undefined
  // The other leaders, in order, and the head among them.
  const other = own === a ? b : a
  const rest = own === undefined ? b : undefined
  if (other === undefined) return [head]
  if (byNewest(head, other) < 0) return [head, other]
  return rest === undefined || byNewest(head, rest) < 0 ? [other, head] : [other, rest]
}

/** `state` with `head` written to its node's entry. */
const withHead = (state: State, head: CachedHead, highestSlot: number): State =>
  new State(HashMap.set(state.heads, head.node.id, head), highestSlot, state.leadersWith(head))

/** `state` with its heads changed otherwise (a removal, a filter): the leaders are worked out when read. */
const withHeads = (state: State, heads: HashMap.HashMap<BeaconNodeId, CachedHead>): State =>
  new State(heads, state.highestSlot, undefined)

/**
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<BeaconHeadCacheService> = Effect.sync(() => {
  const ref = new SyncRef<State>(empty)
  const unsafeGet = (id: BeaconNodeId) => Option.getOrUndefined(HashMap.get(ref.unsafeGet().heads, id))
  const unsafeSet = (head: CachedHead) =>
    ref.unsafeModify((state) => [undefined, withHead(state, head, raise(state.highestSlot, head))])
  const unsafeLeaders = () => ref.unsafeGet().leaders
  const unsafeInsert = (head: CachedHead): InsertResult =>
    ref.unsafeModify((state): [InsertResult, State] => {
      // Read and written in one walk of the map: with 1,000 nodes, hashing the node's URL and walking to its entry
      // twice was a quarter of a head's handling.
      let result: InsertResult = { outcome: "duplicate", first: false }
      const heads = HashMap.modifyAt(state.heads, head.node.id, (previous) => {
        result = resultOf(Option.getOrUndefined(previous), head, state.highestSlot)
        return isKept(result) ? Option.some(head) : previous
      })
      if (!isKept(result)) return [result, state]
      return [result, new State(heads, raise(state.highestSlot, head), state.leadersWith(head))]
    })
  const unsafeInsertAll = (heads: ReadonlyArray<CachedHead>) => {
    // One head (a chunk of one event, the rule on a live chain): no bookkeeping of the heads kept.
    if (heads.length === 1) return [unsafeInsert(heads[0]!)]
    return ref.unsafeModify((state): [ReadonlyArray<InsertResult>, State] => {
      // As `insert` of each head in turn, but each node's entry is written once, with its last kept head: a chunk
      // holds many heads of one node, and each write of the map copies its path and hashes the node's URL again.
      const results: Array<InsertResult> = []
      const kept = new Map<BeaconNodeId, CachedHead>()
      let highestSlot = state.highestSlot
      for (const head of heads) {
        const previous = kept.get(head.node.id) ?? Option.getOrUndefined(HashMap.get(state.heads, head.node.id))
        const result = resultOf(previous, head, highestSlot)
        results.push(result)
        if (!isKept(result)) continue
        kept.set(head.node.id, head)
        highestSlot = raise(highestSlot, head)
      }
      let next = state
      for (const head of kept.values()) next = withHead(next, head, highestSlot)
      return [results, next]
    })
  }
  return {
    get: (id) => Effect.map(Ref.get(ref), (state) => HashMap.get(state.heads, id)),
    insert: (head) => Effect.sync(() => unsafeInsert(head)),
    insertAll: (heads) => Effect.sync(() => unsafeInsertAll(heads)),
    set: (head) => Effect.sync(() => unsafeSet(head)),
    isLatest: (head) =>
      Effect.map(Ref.get(ref), (state) => {
        for (const cached of HashMap.values(state.heads)) if (cached.slot > head.slot) return false
        return true
      }),
    remove: (id) => Ref.update(ref, (state) => withHeads(state, HashMap.remove(state.heads, id))),
    purge: Ref.update(ref, (state) => withHeads(state, HashMap.empty())),
    retain: (ids) => {
      const keep = new Set(ids)
      return Ref.update(ref, (state) => withHeads(state, HashMap.filter(state.heads, (_, id) => keep.has(id))))
    },
    newestFirst: Effect.map(Ref.get(ref), (state) => Array.from(HashMap.values(state.heads)).sort(byNewest)),
    leaders: Effect.sync(unsafeLeaders),
    size: Effect.map(Ref.get(ref), (state) => HashMap.size(state.heads)),
    unsafeGet,
    unsafeInsert,
    unsafeInsertAll,
    unsafeSet,
    unsafeLeaders
  }
})

/**
 * @since 0.1.0
 * @category tags
 */
export class BeaconHeadCache extends Context.Tag("beacon-head-monitor/BeaconHeadCache")<
  BeaconHeadCache,
  BeaconHeadCacheService
>() {}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<BeaconHeadCache> = Layer.effect(BeaconHeadCache, make)
