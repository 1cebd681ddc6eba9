/**
 * Head events as a beacon node writes them on the wire. The body is rendered
 * once and only the slot changes, so that the benchmark's servers stay far
 * cheaper than the clients they measure.
 */
import { headData } from "../support/chain.js"

const { block } = headData(1)
const [before, after] = `event: head\ndata: ${JSON.stringify(headData(1))}\n\n`.split(`"slot":"1"`) as [string, string]

/** `event: head\ndata: {"slot":"…",…}\n\n`. */
export const headEvent = (slot: number): string => `${before}"slot":"${slot}"${after}`

/** The answer to `GET /eth/v1/beacon/headers/head` of a node whose head is the event of `slot` above. */
export const headerAnswer = (slot: number): string =>
  JSON.stringify({
    execution_optimistic: false,
    finalized: false,
    data: {
      root: block,
      canonical: true,
      header: {
        message: { slot: String(slot), proposer_index: "0", parent_root: block, state_root: block, body_root: block },
        signature: "0x"
      }
    }
  })

/** The answer to `GET /eth/v1/config/spec`: mainnet's slot. */
export const specAnswer = JSON.stringify({ data: { SECONDS_PER_SLOT: "12" } })
