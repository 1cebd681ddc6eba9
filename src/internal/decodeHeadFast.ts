/**
 * The fast path of decoding a `head` event, and the patterns it shares with
 * the schemas of `BeaconEvent`. Internal: not part of the package's entries.
 *
 * @internal
 */
import type { HeadEventData, Root } from "../events/BeaconEvent.js"

/** A decimal uint64 that a `number` holds exactly (15 digits at most). */
export const uint64Pattern = /^(0|[1-9][0-9]{0,14})$/

/** A 0x-prefixed 32-byte hex root. */
export const rootPattern = /^0x[0-9a-fA-F]{64}$/

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const isRoot = (u: unknown): u is Root => typeof u === "string" && rootPattern.test(u)
const isOptional = (u: unknown, is: (u: unknown) => boolean) => u === undefined || is(u)
const isBoolean = (u: unknown) => typeof u === "boolean"

/**
 * The dependent roots of the last head that passed: they change once an epoch,
 * so most heads repeat them, and a string equal to one that passed needs no
 * second look. The pattern was a tenth of the decoder's time, four roots a head.
 */
let lastPrevious: unknown
let lastCurrent: unknown

/**
 * The schema's fast path for the shape every server sends: plain checks with
 * the schema's own patterns, no parse tree. It returns `undefined` for anything
 * else, and the schema decides (with its error message). Tested to agree with
 * `HeadEventData` wherever it answers.
 */
export const decodeHeadFast = (json: unknown): HeadEventData | undefined => {
  if (typeof json !== "object" || json === null) return undefined
  const { block, current_duty_dependent_root, epoch_transition, execution_optimistic, previous_duty_dependent_root, slot, state } =
    json as Record<string, unknown>
  if (typeof slot !== "string" || !uint64Pattern.test(slot) || !isRoot(block) || !isRoot(state)) return undefined
  if (!isOptional(epoch_transition, isBoolean) || !isOptional(execution_optimistic, isBoolean)) return undefined
  if (previous_duty_dependent_root !== lastPrevious || current_duty_dependent_root !== lastCurrent) {
    if (!isOptional(previous_duty_dependent_root, isRoot) || !isOptional(current_duty_dependent_root, isRoot)) return undefined
    lastPrevious = previous_duty_dependent_root
    lastCurrent = current_duty_dependent_root
  }
  // Built field by field (no spreads): an absent optional root stays absent, as the schema leaves it.
  const data: Mutable<HeadEventData> = {
    slot: Number(slot),
    block,
    state,
    epoch_transition: (epoch_transition as boolean | undefined) ?? false,
    execution_optimistic: (execution_optimistic as boolean | undefined) ?? false
  }
  if (previous_duty_dependent_root !== undefined) data.previous_duty_dependent_root = previous_duty_dependent_root as Root
  if (current_duty_dependent_root !== undefined) data.current_duty_dependent_root = current_duty_dependent_root as Root
  return data
}
