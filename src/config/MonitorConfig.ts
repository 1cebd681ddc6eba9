/**
 * Tuning of the head monitor: the retry policy, the stall watchdog, limits.
 *
 * @since 0.1.0
 */
import { Context, Duration, Layer } from "effect"

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
  /** Cap of the delay, also the delay of rejected nodes (default half a slot, 6 s). */
  readonly maxDelay: Duration.Duration
  /** Each delay is multiplied by a random factor in [min, max] (default 0.8–1.2). */
  readonly jitter: { readonly min: number; readonly max: number }
}

/**
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
  /** Length of a slot (default 12 s); the staleness checks count in slots. */
  readonly slotDuration: Duration.Duration
  /** A node more than this many slots behind the newest head of the others is lagging (default 2). */
  readonly laggingSlots: number
  /** Least time between two log lines about one node's invalid events (default 10 s). */
  readonly invalidEventLogInterval: Duration.Duration
}

/**
 * The defaults, sized for mainnet's 12-second slots.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaults: MonitorOptions = {
  retry: {
    initialDelay: Duration.millis(250),
    factor: 2,
    maxDelay: Duration.seconds(6),
    jitter: { min: 0.8, max: 1.2 }
  },
  idleTimeout: Duration.seconds(36),
  maxEventSize: 1024 * 1024,
  maxCandidates: 64,
  slotDuration: Duration.seconds(12),
  laggingSlots: 2,
  invalidEventLogInterval: Duration.seconds(10)
}

/**
 * Options where only what differs from the defaults is given.
 *
 * @since 0.1.0
 * @category models
 */
export interface MonitorOptionsInput {
  readonly retry?: {
    readonly initialDelay?: Duration.DurationInput
    readonly factor?: number
    readonly maxDelay?: Duration.DurationInput
    readonly jitter?: { readonly min: number; readonly max: number }
  }
  readonly idleTimeout?: Duration.DurationInput
  readonly maxEventSize?: number
  readonly maxCandidates?: number
  readonly slotDuration?: Duration.DurationInput
  readonly laggingSlots?: number
  readonly invalidEventLogInterval?: Duration.DurationInput
}

/**
 * Fills in defaults.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (input: MonitorOptionsInput = {}): MonitorOptions => {
  const duration = (value: Duration.DurationInput | undefined, fallback: Duration.Duration) =>
    value === undefined ? fallback : Duration.decode(value)
  const retry = input.retry ?? {}
  // The cap and the idle limit follow the slot unless given: half a slot, three slots.
  const slot = duration(input.slotDuration, defaults.slotDuration)
  return {
    retry: {
      initialDelay: duration(retry.initialDelay, defaults.retry.initialDelay),
      factor: retry.factor ?? defaults.retry.factor,
      maxDelay: duration(retry.maxDelay, Duration.unsafeDivide(slot, 2)),
      jitter: retry.jitter ?? defaults.retry.jitter
    },
    idleTimeout: duration(input.idleTimeout, Duration.times(slot, 3)),
    maxEventSize: input.maxEventSize ?? defaults.maxEventSize,
    maxCandidates: input.maxCandidates ?? defaults.maxCandidates,
    slotDuration: slot,
    laggingSlots: input.laggingSlots ?? defaults.laggingSlots,
    invalidEventLogInterval: duration(input.invalidEventLogInterval, defaults.invalidEventLogInterval)
  }
}

/**
 * @since 0.1.0
 * @category tags
 */
export class MonitorConfig extends Context.Tag("beacon-head-monitor/MonitorConfig")<MonitorConfig, MonitorOptions>() {}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (input: MonitorOptionsInput = {}): Layer.Layer<MonitorConfig> =>
  Layer.succeed(MonitorConfig, make(input))
