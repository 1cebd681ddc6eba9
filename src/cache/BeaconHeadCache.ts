/**
 * The latest head of every beacon node, keyed by node identity (never by list
 * position, so a list change cannot make one node's head look like another's).
 *
 * A keyed `Ref`: each node's head is in a `Ref` of its own, found by node
 * identity, so that writing a head costs a lookup, not a copy of a path
 * through a persistent map of every node and a hash of the node's URL (with
 * 100 nodes, a fifth of the monitor's handling of a head). Every operation
 * runs synchronously to its end, so the node fibers that write and the
 * consumers that read need no lock, and one that reads or writes many nodes
 * (`newestFirst`, `retain`) never sees a write half done. The `unsafe` forms
 * are the same operations for a socket's callback, where the monitor handles
 * each chunk of events without running an effect.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option } from "effect"
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
  /** `insert` of each head in turn. */
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
  /** `set`, synchronously. */
  readonly unsafeSet: (head: CachedHead) => void
  /** `leaders`, synchronously. */
  readonly unsafeLeaders: () => ReadonlyArray<CachedHead>
}

const classify = (previous: CachedHead | undefined, head: CachedHead): InsertOutcome => {
  if (previous === undefined || head.slot > previous.slot) return "new"
  if (head.slot < previous.slot) return "replayed"
  if (head.block !== previous.block) return "replaced"
  // A seed is not an observation: the first live event of a seeded head is still new.
  return previous.source === "seed" && head.source !== "seed" ? "new" : "duplicate"
}

const both = (outcome: InsertOutcome): readonly [InsertResult, InsertResult] => [
  { outcome, first: false },
  { outcome, first: true }
]

/** Each result there is (not first, first), made once: an insert runs for every head, in a socket's callback. */
const results: Record<InsertOutcome, readonly [InsertResult, InsertResult]> = {
  new: both("new"),
  replaced: both("replaced"),
  duplicate: both("duplicate"),
  replayed: both("replayed")
}

/** What writing `head` over the node's entry `previous` does, `highestSlot` being the highest slot seen live before. */
const resultOf = (previous: CachedHead | undefined, head: CachedHead, highestSlot: number): InsertResult =>
  results[classify(previous, head)][head.source !== "seed" && head.slot > highestSlot ? 1 : 0]

/** A head kept in place of the node's entry: it advanced the node, or replaced its block at the same slot. */
const isKept = ({ outcome }: InsertResult): boolean => outcome === "new" || outcome === "replaced"

/** Seeds do not count as seeing a slot: they must not take "first" from the node whose live event comes next. */
const raise = (highest: number, head: CachedHead): number => head.source === "seed" ? highest : Math.max(highest, head.slot)

const byNewest = (a: CachedHead, b: CachedHead): number =>
  b.slot - a.slot || a.receivedAt - b.receivedAt || (a.node.id < b.node.id ? -1 : a.node.id > b.node.id ? 1 : 0)

/** The first two of the heads by `byNewest`, in one pass. */
const leadersIn = (heads: Iterable<SyncRef<CachedHead>>): ReadonlyArray<CachedHead> => {
  let first: CachedHead | undefined
  let second: CachedHead | undefined
  for (const ref of heads) {
    const head = ref.unsafeGet()
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

/**
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<BeaconHeadCacheService> = Effect.sync(() => {
  const refs = new Map<BeaconNodeId, SyncRef<CachedHead>>()
  /** Highest slot any node ever reported live; never lowered, so "first" stays first after removals. */
  let highestSlot = -1
  /**
   * The two newest heads (`newestFirst`'s first two): every status answer reads them, and a list change publishes
   * two statuses per new node (connecting, open); one pass over 1,000 heads each time was a tenth of a list change's
   * CPU. They follow from the leaders before most writes (see `withLeader`); `undefined`: worked out on the next read.
   */
  let leaders: ReadonlyArray<CachedHead> | undefined = []

  const unsafeGet = (id: BeaconNodeId) => refs.get(id)?.unsafeGet()
  /** `head` in place of its node's entry. */
  const write = (head: CachedHead) => {
    const ref = refs.get(head.node.id)
    if (ref === undefined) refs.set(head.node.id, new SyncRef(head))
    else ref.unsafeSet(head)
    highestSlot = raise(highestSlot, head)
    if (leaders !== undefined) leaders = withLeader(leaders, head)
  }
  /** Whatever the removal, the leaders stand unless one of them left. */
  const removed = (id: BeaconNodeId) => {
    if (refs.delete(id) && leaders?.some((head) => head.node.id === id)) leaders = undefined
  }
  const unsafeInsert = (head: CachedHead): InsertResult => {
    const result = resultOf(unsafeGet(head.node.id), head, highestSlot)
    if (isKept(result)) write(head)
    return result
  }
  const unsafeLeaders = () => leaders ??= leadersIn(refs.values())
  const cachedHeads = () => Array.from(refs.values(), (ref) => ref.unsafeGet())
  return {
    get: (id) => Effect.sync(() => Option.fromNullable(unsafeGet(id))),
    insert: (head) => Effect.sync(() => unsafeInsert(head)),
    insertAll: (heads) => Effect.sync(() => heads.map(unsafeInsert)),
    set: (head) => Effect.sync(() => write(head)),
    isLatest: (head) =>
      Effect.sync(() => {
        for (const ref of refs.values()) if (ref.unsafeGet().slot > head.slot) return false
        return true
      }),
    remove: (id) => Effect.sync(() => removed(id)),
    purge: Effect.sync(() => {
      refs.clear()
      leaders = []
    }),
    retain: (ids) =>
      Effect.sync(() => {
        const keep = new Set(ids)
        for (const id of refs.keys()) if (!keep.has(id)) removed(id)
      }),
    newestFirst: Effect.sync(() => cachedHeads().sort(byNewest)),
    leaders: Effect.sync(unsafeLeaders),
    size: Effect.sync(() => refs.size),
    unsafeGet,
    unsafeInsert,
    unsafeSet: write,
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
