/**
 * The answer of `GET /heads`: the head most nodes report (with the count and
 * the nodes) and how far each node is from it.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import type { ConsensusView } from "../cache/ConsensusView.js"
import { Root, Uint64String } from "../events/BeaconEvent.js"
import { HeadMonitor } from "../monitor/HeadMonitor.js"

/**
 * @since 0.1.0
 * @category schemas
 */
export const HeadsResponse = Schema.Struct({
  data: Schema.Struct({
    /** `null` while no node has a head. */
    consensus: Schema.NullOr(Schema.Struct({
      slot: Uint64String,
      root: Root,
      count: Schema.NonNegativeInt,
      /** Display URLs, earliest arrival first. */
      nodes: Schema.Array(Schema.String)
    })),
    /** Every node with a head, newest first. */
    nodes: Schema.Array(Schema.Struct({
      url: Schema.String,
      slot: Uint64String,
      root: Root,
      agrees: Schema.Boolean,
      /** Consensus slot minus the node's slot: positive behind, negative ahead. */
      slots_behind: Schema.Int
    }))
  })
})

/**
 * @since 0.1.0
 * @category constructors
 */
export const fromView = (view: ConsensusView): typeof HeadsResponse.Type => ({
  data: {
    consensus: view.head === undefined ? null : {
      slot: view.head.slot,
      root: view.head.block,
      count: view.head.count,
      nodes: view.head.nodes.map((node) => node.display)
    },
    nodes: view.nodes.map((node) => ({
      url: node.node.display,
      slot: node.slot,
      root: node.block,
      agrees: node.agrees,
      slots_behind: node.slotsBehind
    }))
  }
})

/**
 * The view now.
 *
 * @since 0.1.0
 * @category constructors
 */
export const current: Effect.Effect<typeof HeadsResponse.Type, never, HeadMonitor> = Effect.map(
  Effect.flatMap(HeadMonitor, (monitor) => monitor.consensus),
  fromView
)
