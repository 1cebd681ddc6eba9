/** Head and reorg event payloads as a beacon node writes them, for scripted servers. */
import { createHash } from "node:crypto"
import type { BeaconNodeServer } from "../../src/simulator/BeaconNodeServer.js"

/** A deterministic 32-byte root for a label. */
export const root = (label: string): string => `0x${createHash("sha256").update(label).digest("hex")}`

export const headData = (slot: number, options: { readonly fork?: string; readonly optimistic?: boolean } = {}) => ({
  slot: String(slot),
  block: root(`block-${options.fork ?? "main"}-${slot}`),
  state: root(`state-${options.fork ?? "main"}-${slot}`),
  epoch_transition: slot % 32 === 0,
  previous_duty_dependent_root: root("previous-dependent"),
  current_duty_dependent_root: root("current-dependent"),
  execution_optimistic: options.optimistic ?? false
})

/** A `chain_reorg` at `slot` from the main fork's block to `fork`'s. */
export const reorgData = (slot: number, depth: number, fork: string) => ({
  slot: String(slot),
  depth: String(depth),
  old_head_block: headData(slot).block,
  new_head_block: headData(slot, { fork }).block,
  epoch: "0",
  execution_optimistic: false
})

/** The body of `/eth/v1/beacon/headers/head` from a node at `slot`. */
export const headerAnswer = (slot: number) => ({
  execution_optimistic: false,
  finalized: false,
  data: {
    root: headData(slot).block,
    canonical: true,
    header: {
      message: {
        slot: String(slot),
        proposer_index: "1",
        parent_root: root("parent"),
        state_root: headData(slot).state,
        body_root: root("body")
      },
      signature: `0x${"00".repeat(96)}`
    }
  }
})

/** Serves `/eth/v1/beacon/headers/head` as a node at `slot` would. */
export const serveHeader = (server: BeaconNodeServer, slot: number) =>
  server.route("/eth/v1/beacon/headers/head", () => ({ status: 200, body: headerAnswer(slot) }))
