/** Log capture for tests that check what is logged. */
import { Cause, Logger } from "effect"

/** Captures log lines: message, annotations and, when one was logged, the cause (pretty). */
export const captureLogs = () => {
  const lines: Array<{
    readonly level: string
    readonly message: unknown
    readonly annotations: Record<string, unknown>
    readonly cause?: string
  }> = []
  const logger = Logger.make(({ annotations, cause, logLevel, message }) => {
    lines.push({
      level: logLevel.label,
      message: Array.isArray(message) ? message[0] : message,
      annotations: Object.fromEntries(annotations),
      ...(Cause.isEmpty(cause) ? {} : { cause: Cause.pretty(cause) })
    })
  })
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
}
