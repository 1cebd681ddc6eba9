/**
 * The reconnect policy of one beacon node's stream, as a `Schedule`.
 *
 * Exponential from `initialDelay` by `factor`, jittered, then capped at
 * `maxDelay`: the cap is the longest wait there is, jitter included (near the
 * cap, jitter can only shorten a delay). A rejected node (4xx) waits the
 * capped delay straight away. It never gives up: a beacon node may come back at
 * any time. The monitor drives it by hand and resets it as soon as a
 * reconnected stream delivers again.
 *
 * @since 0.1.0
 */
import { Duration, Schedule } from "effect"
import type { RetryOptions } from "../config/MonitorConfig.js"
import type { BeaconStreamError } from "./BeaconStreamError.js"

/**
 * What the policy outputs after each failure.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryStep {
  /** 1 for the first failure since the stream last delivered data. */
  readonly attempt: number
  readonly error: BeaconStreamError
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: RetryOptions): Schedule.Schedule<RetryStep, BeaconStreamError> =>
  Schedule.exponential(options.initialDelay, options.factor).pipe(
    Schedule.either(Schedule.spaced(options.maxDelay)),
    Schedule.intersect(Schedule.identity<BeaconStreamError>()),
    Schedule.intersect(Schedule.count),
    Schedule.map(([[, error], count]): RetryStep => ({ attempt: count + 1, error })),
    Schedule.modifyDelay((step, delay) => step.error.isRejected ? options.maxDelay : delay),
    Schedule.jitteredWith(options.jitter),
    Schedule.modifyDelay((_, delay) => Duration.min(delay, options.maxDelay))
  )

/**
 * The delay before the given attempt without jitter, for status displays and
 * tests: `min(initialDelay × factor^(attempt-1), maxDelay)`, or `maxDelay` if rejected.
 * With jitter, the delay is this times the jitter factor, and never more than `maxDelay`.
 *
 * @since 0.1.0
 */
export const baseDelay = (options: RetryOptions, attempt: number, rejected: boolean): Duration.Duration =>
  rejected
    ? options.maxDelay
    : Duration.min(Duration.times(options.initialDelay, Math.pow(options.factor, attempt - 1)), options.maxDelay)
