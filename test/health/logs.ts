/** Log capture for tests that check what is logged. */
import { Logger } from "effect"

/** Captures log lines: message and annotations. */
export const captureLogs = () => {
  const lines: Array<{ readonly level: string; readonly message: unknown; readonly annotations: Record<string, unknown> }> = []
  const logger = Logger.make(({ annotations, logLevel, message }) => {
    lines.push({
      level: logLevel.label,
      message: Array.isArray(message) ? message[0] : message,
      annotations: Object.fromEntries(annotations)
    })
  })
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
}
