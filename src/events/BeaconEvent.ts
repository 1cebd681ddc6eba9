/**
 * What a beacon node sends on `GET /eth/v1/events`, decoded.
 *
 * One SSE message becomes exactly one {@link BeaconEvent}: a `head`, a
 * `chain_reorg`, an event of another known topic (counted, ignored) or an
 * `Invalid` one (bad JSON, failed schema, unknown event name) that is dropped
 * and counted. Decoding never fails: a poison event must not end a stream.
 *
 * @since 0.1.0
 */
import type { EventSourceMessage } from "eventsource-parser"
import { Data, ParseResult, Schema } from "effect"
import { decodeHeadFast, rootPattern, uint64Pattern } from "../internal/decodeHeadFast.js"
import { scanHead } from "../internal/scanHead.js"

/**
 * A uint64 as the Beacon API writes it: a decimal string. Decoded to a `number`,
 * which holds every slot and epoch of the next few million years exactly.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Uint64String = Schema.transform(
  Schema.String.pipe(Schema.pattern(uint64Pattern, { message: () => "expected a decimal uint64 string" })),
  Schema.NonNegativeInt,
  { strict: true, decode: (s) => Number(s), encode: (n) => String(n) }
)

/**
 * A 0x-prefixed 32-byte hex root.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Root = Schema.String.pipe(
  Schema.pattern(rootPattern, { message: () => "expected a 0x-prefixed 32-byte hex root" }),
  Schema.brand("Root")
)

/**
 * @since 0.1.0
 * @category models
 */
export type Root = typeof Root.Type

/**
 * The `data` of a `head` event. Unknown fields are ignored; the fields that
 * older servers omit are optional.
 *
 * @since 0.1.0
 * @category schemas
 */
export const HeadEventData = Schema.Struct({
  slot: Uint64String,
  block: Root,
  state: Root,
  epoch_transition: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  previous_duty_dependent_root: Schema.optional(Root),
  current_duty_dependent_root: Schema.optional(Root),
  execution_optimistic: Schema.optionalWith(Schema.Boolean, { default: () => false })
})

/**
 * @since 0.1.0
 * @category models
 */
export type HeadEventData = typeof HeadEventData.Type

/**
 * The `data` of a `chain_reorg` event.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ChainReorgData = Schema.Struct({
  slot: Uint64String,
  depth: Uint64String,
  old_head_block: Root,
  new_head_block: Root,
  old_head_state: Schema.optional(Root),
  new_head_state: Schema.optional(Root),
  epoch: Schema.optional(Uint64String),
  execution_optimistic: Schema.optionalWith(Schema.Boolean, { default: () => false })
})

/**
 * @since 0.1.0
 * @category models
 */
export type ChainReorgData = typeof ChainReorgData.Type

/**
 * Topics of the Beacon API event stream other than those we decode. Their
 * events are counted and ignored; an event name outside this list is poison.
 *
 * @since 0.1.0
 */
export const otherTopics: ReadonlySet<string> = new Set([
  "block",
  "block_gossip",
  "attestation",
  "single_attestation",
  "voluntary_exit",
  "bls_to_execution_change",
  "proposer_slashing",
  "attester_slashing",
  "finalized_checkpoint",
  "contribution_and_proof",
  "light_client_finality_update",
  "light_client_optimistic_update",
  "payload_attributes",
  "blob_sidecar",
  "data_column_sidecar"
])

/**
 * @since 0.1.0
 * @category models
 */
export type BeaconEvent = Data.TaggedEnum<{
  Head: { readonly data: HeadEventData }
  ChainReorg: { readonly data: ChainReorgData }
  Other: { readonly topic: string }
  Invalid: { readonly topic: string; readonly reason: string }
}>

/**
 * @since 0.1.0
 * @category constructors
 */
export const BeaconEvent = Data.taggedEnum<BeaconEvent>()

const decodeHeadSchema = Schema.decodeUnknownEither(HeadEventData, { errors: "first" })
const decodeReorg = Schema.decodeUnknownEither(ChainReorgData, { errors: "first" })

/**
 * A decoded head, as `BeaconEvent.Head` would build it (the same own fields,
 * the same structural `Equal` and `Hash`) but at a fifth of its cost: that
 * constructor copies its argument with `Object.assign` onto a fresh object, once per head.
 */
class DecodedHead extends Data.Structural<{}> {
  readonly data: HeadEventData
  readonly _tag = "Head"
  constructor(data: HeadEventData) {
    super()
    this.data = data
  }
}

const invalid = (topic: string, error: ParseResult.ParseError): BeaconEvent =>
  BeaconEvent.Invalid({ topic, reason: ParseResult.TreeFormatter.formatErrorSync(error) })

/** `decodeJson` of the JSON of `data`, or the `Invalid` event that says why it is none. */
const withJson = (data: string, topic: string, decodeJson: (json: unknown) => BeaconEvent): BeaconEvent => {
  let json: unknown
  try {
    json = JSON.parse(data)
  } catch (error) {
    return BeaconEvent.Invalid({ topic, reason: `bad JSON: ${(error as Error).message}` })
  }
  return decodeJson(json)
}

// Per event, so no closures, wrappers or Either matching: the fast path first, then the schema.
const decodeHead = (json: unknown): BeaconEvent => {
  const fast = decodeHeadFast(json)
  if (fast !== undefined) return new DecodedHead(fast)
  const decoded = decodeHeadSchema(json)
  return decoded._tag === "Right" ? new DecodedHead(decoded.right) : invalid("head", decoded.left)
}

const decodeChainReorg = (json: unknown): BeaconEvent => {
  const decoded = decodeReorg(json)
  return decoded._tag === "Right" ? BeaconEvent.ChainReorg({ data: decoded.right }) : invalid("chain_reorg", decoded.left)
}

/**
 * Decodes one SSE message. Total: anything that is not a valid event of a known
 * topic becomes `Invalid` with a reason. A message without an event name is of
 * the standard's default type `message`, which is no beacon topic.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = ({ data, event = "message" }: EventSourceMessage): BeaconEvent => {
  switch (event) {
    case "head": {
      // One pass over the text for what every server sends; anything else is parsed, and the schema decides.
      const head = scanHead(data)
      return head !== undefined ? new DecodedHead(head) : withJson(data, "head", decodeHead)
    }
    case "chain_reorg":
      return withJson(data, "chain_reorg", decodeChainReorg)
    default:
      return otherTopics.has(event)
        ? BeaconEvent.Other({ topic: event })
        : BeaconEvent.Invalid({ topic: event, reason: `unknown event name ${JSON.stringify(event.slice(0, 64))}` })
  }
}
