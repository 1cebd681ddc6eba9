/** Head and reorg event payloads as a beacon node writes them, for scripted servers. */
import { createHash } from "node:crypto"

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
