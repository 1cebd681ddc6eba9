/**
 * Head events as a beacon node writes them on the wire. The body is rendered
 * once and only the slot changes, so that the benchmark's servers stay far
 * cheaper than the clients they measure.
 */
import { headData } from "../support/chain.js"

const [before, after] = `event: head\ndata: ${JSON.stringify(headData(1))}\n\n`.split(`"slot":"1"`) as [string, string]

/** `event: head\ndata: {"slot":"…",…}\n\n`. */
export const headEvent = (slot: number): string => `${before}"slot":"${slot}"${after}`
