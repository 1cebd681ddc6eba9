/**
 * The head that most beacon nodes report, and how far each node is from it.
 *
 * @since 0.1.0
 */
import type { Root } from "../events/BeaconEvent.js"
import type { BeaconNode } from "../node/BeaconNode.js"
import type { CachedHead } from "./BeaconHeadCache.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface ConsensusHead {
  readonly slot: number
  readonly block: Root
  /** How many nodes report this head. */
  readonly count: number
  /** The nodes that report it, earliest arrival first. */
  readonly nodes: ReadonlyArray<BeaconNode>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface NodeDistance {
  readonly node: BeaconNode
  readonly slot: number
  readonly block: Root
  /** The node reports the consensus head. */
  readonly agrees: boolean
  /** Consensus slot minus the node's slot: positive behind, negative ahead. */
  readonly slotsBehind: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ConsensusView {
  /** `undefined` when no node has a head. */
  readonly head: ConsensusHead | undefined
  /** Every node with a head, in the order given. */
  readonly nodes: ReadonlyArray<NodeDistance>
}

/**
 * The consensus over the given heads: the (slot, block) reported by the most
 * nodes; a tie goes to the higher slot, then to the head seen earliest.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromHeads = (heads: ReadonlyArray<CachedHead>): ConsensusView => {
  const groups = new Map<string, Array<CachedHead>>()
  for (const head of heads) {
    const key = `${head.slot}/${head.block}`
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [head])
    else group.push(head)
  }
  let best: Array<CachedHead> | undefined
  const firstArrival = (group: ReadonlyArray<CachedHead>) => Math.min(...group.map((head) => head.receivedAt))
  for (const group of groups.values()) {
    if (
      best === undefined || group.length > best.length ||
      (group.length === best.length &&
        (group[0]!.slot > best[0]!.slot ||
          (group[0]!.slot === best[0]!.slot && firstArrival(group) < firstArrival(best))))
    ) best = group
  }
  if (best === undefined) return { head: undefined, nodes: [] }
  const { block, slot } = best[0]!
  return {
    head: {
      slot,
      block,
      count: best.length,
      nodes: [...best].sort((a, b) => a.receivedAt - b.receivedAt).map((head) => head.node)
    },
    nodes: heads.map((head) => ({
      node: head.node,
      slot: head.slot,
      block: head.block,
      agrees: head.slot === slot && head.block === block,
      slotsBehind: slot - head.slot
    }))
  }
}
