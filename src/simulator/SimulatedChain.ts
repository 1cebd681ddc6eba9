/**
 * The one chain a simulated devnet's nodes share: which block is the head at
 * each slot, and the Beacon API payloads that describe it.
 *
 * Pure data and payload builders: the devnet decides when slots pass and what
 * happens in them; nodes copy the chain's head when they "see" it.
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"

/**
 * A block of the simulated chain.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatedBlock {
  readonly slot: number
  readonly root: string
  readonly stateRoot: string
  readonly parentRoot: string
}

/**
 * A reorg: the head moved to a block that does not build on the old head.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatedReorg {
  readonly oldHead: SimulatedBlock
  readonly newHead: SimulatedBlock
  /** Blocks of the old chain that were dropped. */
  readonly depth: number
}

/**
 * A 0x-prefixed 32-byte root derived from a label (stable across runs).
 *
 * @since 0.1.0
 */
export const rootOf = (label: string): string => `0x${createHash("sha256").update(label).digest("hex")}`

/**
 * The root that the simulated chain reports as its genesis validators root.
 *
 * @since 0.1.0
 */
export const genesisValidatorsRoot = rootOf("simulated-devnet-genesis-validators")

/**
 * @since 0.1.0
 * @category models
 */
export class SimulatedChain {
  /** The canonical chain, oldest first; starts with the genesis block at slot 0. */
  private readonly blocks: Array<SimulatedBlock>
  private fork = 0

  constructor() {
    this.blocks = [{ slot: 0, root: rootOf("genesis"), stateRoot: rootOf("genesis-state"), parentRoot: `0x${"00".repeat(32)}` }]
  }

  /** The canonical head. */
  get head(): SimulatedBlock {
    return this.blocks[this.blocks.length - 1]!
  }

  /** The last `count` canonical blocks, oldest first (what a re-syncing node replays). */
  recent(count: number): ReadonlyArray<SimulatedBlock> {
    return this.blocks.slice(-count)
  }

  /** Adds a block at `slot` on top of the head. */
  extend(slot: number): SimulatedBlock {
    const block = this.block(slot, this.head.root)
    this.blocks.push(block)
    this.trim()
    return block
  }

  /**
   * Adds a block at `slot` that drops the last `depth` blocks (never genesis);
   * `undefined` when the chain is too short.
   */
  reorg(slot: number, depth: number): SimulatedReorg | undefined {
    if (this.blocks.length <= depth) return undefined
    const oldHead = this.head
    this.fork++
    this.blocks.splice(this.blocks.length - depth, depth)
    const newHead = this.block(slot, this.head.root)
    this.blocks.push(newHead)
    return { oldHead, newHead, depth }
  }

  private block(slot: number, parentRoot: string): SimulatedBlock {
    return {
      slot,
      root: rootOf(`block-${this.fork}-${slot}`),
      stateRoot: rootOf(`state-${this.fork}-${slot}`),
      parentRoot
    }
  }

  /** Keeps memory flat on a long run. */
  private trim(): void {
    if (this.blocks.length > 256) this.blocks.splice(0, this.blocks.length - 128)
  }
}

/**
 * The `data` of a `head` event for a block.
 *
 * @since 0.1.0
 */
export const headEventData = (block: SimulatedBlock, slotsPerEpoch: number) => ({
  slot: String(block.slot),
  block: block.root,
  state: block.stateRoot,
  epoch_transition: block.slot % slotsPerEpoch === 0,
  previous_duty_dependent_root: block.parentRoot,
  current_duty_dependent_root: block.parentRoot,
  execution_optimistic: false
})

/**
 * The `data` of a `chain_reorg` event.
 *
 * @since 0.1.0
 */
export const chainReorgData = (reorg: SimulatedReorg, slotsPerEpoch: number) => ({
  slot: String(reorg.newHead.slot),
  depth: String(reorg.depth),
  old_head_block: reorg.oldHead.root,
  new_head_block: reorg.newHead.root,
  old_head_state: reorg.oldHead.stateRoot,
  new_head_state: reorg.newHead.stateRoot,
  epoch: String(Math.floor(reorg.newHead.slot / slotsPerEpoch)),
  execution_optimistic: false
})

/**
 * The answer of `GET /eth/v1/beacon/headers/head` for a node whose head is `block`.
 *
 * @since 0.1.0
 */
export const headerResponse = (block: SimulatedBlock) => ({
  execution_optimistic: false,
  finalized: false,
  data: {
    root: block.root,
    canonical: true,
    header: {
      message: {
        slot: String(block.slot),
        proposer_index: String(block.slot % 64),
        parent_root: block.parentRoot,
        state_root: block.stateRoot,
        body_root: rootOf(`body-${block.root}`)
      },
      signature: `0x${"00".repeat(96)}`
    }
  }
})
