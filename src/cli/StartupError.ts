/**
 * Why the process could not start: printed as one line, exit code 1.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * @since 0.1.0
 * @category errors
 */
export class StartupError extends Data.TaggedError("StartupError")<{
  /** One line naming the flag (or resource) at fault; never a secret. */
  readonly message: string
}> {}
