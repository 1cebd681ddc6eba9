/**
 * The ordered list of beacon nodes to follow, replaceable at runtime.
 *
 * An update is validated whole before anything changes; updates are
 * serialised, and every accepted list is published on `changes`, which the
 * head monitor reconciles against (see `HeadMonitor`).
 *
 * @since 0.1.0
 */
import { Config, type ConfigError, Context, Data, Effect, Either, Layer, Stream, SubscriptionRef } from "effect"
import { defaults, MonitorConfig } from "../config/MonitorConfig.js"
import { type BeaconNode, type BeaconNodeId, parse } from "../node/BeaconNode.js"

/**
 * One wrong entry of a proposed list.
 *
 * @since 0.1.0
 * @category models
 */
export interface InvalidEntry {
  /** Position in the proposed list, or -1 for a problem with the list as a whole. */
  readonly index: number
  /** The entry with anything that may be a secret removed. */
  readonly entry: string
  readonly reason: string
}

/**
 * @since 0.1.0
 * @category errors
 */
export class InvalidCandidateList extends Data.TaggedError("InvalidCandidateList")<{
  readonly entries: ReadonlyArray<InvalidEntry>
}> {
  override get message() {
    return this.entries
      .map((e) => e.index < 0 ? e.reason : `entry ${e.index} (${e.entry}): ${e.reason}`)
      .join("; ")
  }
}

/**
 * An accepted list with its position index.
 *
 * @since 0.1.0
 * @category models
 */
export interface Candidates {
  readonly nodes: ReadonlyArray<BeaconNode>
  /** Position of each node in `nodes`. */
  readonly positions: ReadonlyMap<BeaconNodeId, number>
  /** Increases by one with every accepted update. */
  readonly version: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface CandidateListService {
  /** The current list. */
  readonly get: Effect.Effect<Candidates>
  /** Validates and replaces the list; on error the list stays exactly as it was. */
  readonly update: (urls: ReadonlyArray<string>) => Effect.Effect<Candidates, InvalidCandidateList>
  /** The current list, then every accepted list, in order. */
  readonly changes: Stream.Stream<Candidates>
}

/**
 * Parses a proposed list: non-empty, at most `max` entries, each an http(s) URL,
 * no node twice after normalisation. Reports every wrong entry, not only the first.
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (
  urls: ReadonlyArray<string>,
  max: number
): Either.Either<ReadonlyArray<BeaconNode>, InvalidCandidateList> => {
  if (urls.length === 0) {
    return Either.left(new InvalidCandidateList({ entries: [{ index: -1, entry: "", reason: "the list is empty" }] }))
  }
  if (urls.length > max) {
    return Either.left(
      new InvalidCandidateList({
        entries: [{ index: -1, entry: "", reason: `${urls.length} nodes is more than the maximum of ${max}` }]
      })
    )
  }
  const nodes: Array<BeaconNode> = []
  const invalid: Array<InvalidEntry> = []
  const seen = new Map<BeaconNodeId, number>()
  urls.forEach((url, index) => {
    Either.match(parse(url), {
      onLeft: (error) => invalid.push({ index, entry: error.input, reason: error.reason }),
      onRight: (node) => {
        const earlier = seen.get(node.id)
        if (earlier !== undefined) {
          invalid.push({ index, entry: node.display, reason: `the same node as entry ${earlier}` })
        } else {
          seen.set(node.id, index)
          nodes.push(node)
        }
      }
    })
  })
  return invalid.length > 0 ? Either.left(new InvalidCandidateList({ entries: invalid })) : Either.right(nodes)
}

const candidates = (nodes: ReadonlyArray<BeaconNode>, version: number): Candidates => ({
  nodes,
  positions: new Map(nodes.map((node, index) => [node.id, index])),
  version
})

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  urls: ReadonlyArray<string>
): Effect.Effect<CandidateListService, InvalidCandidateList, MonitorConfig> =>
  Effect.gen(function*() {
    const maxCandidates = (yield* MonitorConfig).maxCandidates ?? defaults.maxCandidates
    const initial = yield* validate(urls, maxCandidates)
    const ref = yield* SubscriptionRef.make(candidates(initial, 0))
    return {
      get: SubscriptionRef.get(ref),
      // SubscriptionRef.modifyEffect holds the ref's lock: updates are serialised and never interleave.
      update: (next) =>
        SubscriptionRef.modifyEffect(ref, (current) =>
          Effect.map(validate(next, maxCandidates), (nodes) => {
            const accepted = candidates(nodes, current.version + 1)
            return [accepted, accepted] as const
          })),
      changes: ref.changes
    }
  })

/**
 * @since 0.1.0
 * @category tags
 */
export class CandidateList extends Context.Tag("beacon-head-monitor/CandidateList")<
  CandidateList,
  CandidateListService
>() {}

/**
 * A candidate list that starts with the given URLs.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (urls: ReadonlyArray<string>): Layer.Layer<CandidateList, InvalidCandidateList, MonitorConfig> =>
  Layer.effect(CandidateList, make(urls))

/**
 * A candidate list that starts with the URLs read from configuration, by
 * default the comma-separated `BEACON_NODES` of the environment.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  urls: Config.Config<ReadonlyArray<string>> = Config.array(Config.string(), "BEACON_NODES")
): Layer.Layer<CandidateList, InvalidCandidateList | ConfigError.ConfigError, MonitorConfig> =>
  Layer.effect(CandidateList, Effect.flatMap(urls, make))
