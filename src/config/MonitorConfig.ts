/**
 * Tuning of the head monitor: the retry policy, the stall watchdog, limits.
 *
 * @since 0.1.0
 */
import { Context, Duration, Layer } from "effect"
import type { RequestOptionsInput } from "../node/RequestOptions.js"

/**
 * Exponential backoff, jittered, capped: no delay exceeds `maxDelay`.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryOptions {
  /** First delay after a failure (default 250 ms). */
  readonly initialDelay: Duration.Duration
  /** Growth factor per consecutive failure (default 2). */
  readonly factor: number
  /** Cap of the delay, jitter included; also the delay of rejected nodes (default half a slot, 6 s on mainnet). */
  readonly maxDelay: Duration.Duration
  /** Each delay is multiplied by a random factor in [min, max] (default 0.8–1.2). */
  readonly jitter: { readonly min: number; readonly max: number }
}

/**
 * The tuning in effect, every slot-sized value worked out for the chain followed.
 *
 * @since 0.1.0
 * @category models
 */
export interface MonitorOptions {
  readonly retry: RetryOptions
  /** Drop and retry a connection that sends no byte for this long, headers included (default 3 slots, 36 s). */
  readonly idleTimeout: Duration.Duration
  /** Largest SSE event kept in memory, in characters (default 1 MiB). */
  readonly maxEventSize: number
  /** Most nodes a candidate list may hold (default 64). */
  readonly maxCandidates: number
  /** Length of a slot of the chain followed: the configured one, else the nodes' own. */
  readonly slotDuration: Duration.Duration
  /** A node more than this many slots behind the newest head of the others is lagging (default 2). */
  readonly laggingSlots: number
  /** Least time between two log lines about one node's invalid events (default 10 s). */
  readonly invalidEventLogInterval: Duration.Duration
}

/**
 * The defaults that do not depend on the slot; see {@link perSlot} for those that do.
 *
 * @since 0.1.0
 */
export const defaults = {
  retry: {
    initialDelay: Duration.millis(250),
    factor: 2,
    jitter: { min: 0.8, max: 1.2 }
  },
  maxEventSize: 1024 * 1024,
  maxCandidates: 64,
  laggingSlots: 2,
  invalidEventLogInterval: Duration.seconds(10)
} as const

/**
 * The slot-sized defaults, in slots of the chain followed: the retry cap is half a slot (6 s on mainnet, 2.5 s on
 * Gnosis, 1 s on a 2-s devnet), the idle limit three slots.
 *
 * @since 0.1.0
 */
export const perSlot = {
  retryMaxDelay: 0.5,
  idleTimeout: 3
} as const

/**
 * What is configured: anything left out takes its default, and the slot-sized
 * values follow the slot (`slotDuration` if given, else the chain's own, read
 * from the nodes: see `HeadMonitor.layer`).
 *
 * @since 0.1.0
 * @category models
 */
export interface MonitorOptionsInput {
  readonly retry?: {
    readonly initialDelay?: Duration.DurationInput | undefined
    readonly factor?: number | undefined
    readonly maxDelay?: Duration.DurationInput | undefined
    readonly jitter?: { readonly min: number; readonly max: number } | undefined
  }
  readonly idleTimeout?: Duration.DurationInput | undefined
  readonly maxEventSize?: number | undefined
  readonly maxCandidates?: number | undefined
  /** Overrides the chain's slot length (a warning names the nodes that say otherwise). */
  readonly slotDuration?: Duration.DurationInput | undefined
  readonly laggingSlots?: number | undefined
  readonly invalidEventLogInterval?: Duration.DurationInput | undefined
  /**
   * Extra headers (secrets: an API key) and CA certificates for every request to the nodes, for all or per node
   * URL. When absent, the `NodeRequestOptions` in context (none by default) apply.
   */
  readonly requests?: RequestOptionsInput | undefined
}

/**
 * The tuning for a chain whose slot is `slotDuration` (the resolved one: the
 * input's own `slotDuration` is not looked at here).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (input: MonitorOptionsInput, slotDuration: Duration.DurationInput): MonitorOptions => {
  const duration = (value: Duration.DurationInput | undefined, fallback: Duration.Duration) =>
    value === undefined ? fallback : Duration.decode(value)
  const retry = input.retry ?? {}
  const slot = Duration.decode(slotDuration)
  return {
    retry: {
      initialDelay: duration(retry.initialDelay, defaults.retry.initialDelay),
      factor: retry.factor ?? defaults.retry.factor,
      maxDelay: duration(retry.maxDelay, Duration.times(slot, perSlot.retryMaxDelay)),
      jitter: retry.jitter ?? defaults.retry.jitter
    },
    idleTimeout: duration(input.idleTimeout, Duration.times(slot, perSlot.idleTimeout)),
    maxEventSize: input.maxEventSize ?? defaults.maxEventSize,
    maxCandidates: input.maxCandidates ?? defaults.maxCandidates,
    slotDuration: slot,
    laggingSlots: input.laggingSlots ?? defaults.laggingSlots,
    invalidEventLogInterval: duration(input.invalidEventLogInterval, defaults.invalidEventLogInterval)
  }
}

/**
 * What is configured, as a service: the monitor works out the rest when it starts.
 *
 * @since 0.1.0
 * @category tags
 */
export class MonitorConfig extends Context.Tag("beacon-head-monitor/MonitorConfig")<MonitorConfig, MonitorOptionsInput>() {}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (input: MonitorOptionsInput = {}): Layer.Layer<MonitorConfig> => Layer.succeed(MonitorConfig, input)
