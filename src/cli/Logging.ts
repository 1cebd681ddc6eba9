/**
 * The process's logger: `pretty` (for people), `logfmt` or `json` (for
 * machines), at a least level, writing whole lines through one function (the
 * terminal screen on a TTY, so log lines never tear the status table).
 *
 * @since 0.1.0
 */
import { Cause, HashMap, Layer, Logger, type LogLevel, Option } from "effect"
import * as Ansi from "./Ansi.js"
import type { LogFormat } from "./Flags.js"
import type { Screen } from "./Screen.js"

const levelColors: Record<string, string> = {
  TRACE: "\x1b[90m",
  DEBUG: "\x1b[34m",
  INFO: "\x1b[32m",
  WARN: "\x1b[33m",
  ERROR: "\x1b[31m",
  FATAL: "\x1b[41;97m"
}

const text = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value) ?? String(value))

/** `key=value`, quoted when the value has spaces, quotes or equals signs. */
const pair = (key: string, value: unknown): string => {
  const raw = text(value)
  return `${key}=${/[\s"=]/.test(raw) || raw === "" ? JSON.stringify(raw) : raw}`
}

/** One line (plus the cause's lines, if any) for a person: time, level, message, annotations. */
const pretty = (colors: boolean): Logger.Logger<unknown, string> =>
  Logger.make(({ annotations, cause, date, logLevel, message }) => {
    const paint = (code: string, value: string) => (colors ? `${code}${value}\x1b[0m` : value)
    const time = date.toISOString().slice(11, 23)
    const level = logLevel.label.padEnd(5)
    const words = (Array.isArray(message) ? message : [message]).map(text).join(" ")
    const pairs = [...HashMap.toEntries(annotations)].map(([key, value]) => paint("\x1b[2m", pair(key, value)))
    const line = [paint("\x1b[2m", time), paint(levelColors[logLevel.label] ?? "", level), words, ...pairs].join(" ")
    return Cause.isEmpty(cause) ? line : `${line}\n${Cause.pretty(cause)}`
  })

/** The logger for a format, writing each line with `write`. */
const logger = (format: LogFormat, write: (line: string) => void, colors: boolean): Logger.Logger<unknown, void> => {
  const base = format === "json" ? Logger.jsonLogger : format === "logfmt" ? Logger.logfmtLogger : pretty(colors)
  return Logger.map(base, write)
}

/** Replaces the default logger and, if given, sets the least level logged. */
const layer = (options: {
  readonly format: LogFormat
  /** None leaves the level as it is (info, or what @effect/cli's `--log-level` set). */
  readonly level: Option.Option<LogLevel.LogLevel>
  readonly write: (line: string) => void
  readonly colors: boolean
}): Layer.Layer<never> =>
  Layer.merge(
    Logger.replace(Logger.defaultLogger, logger(options.format, options.write, options.colors)),
    Option.match(options.level, { onNone: () => Layer.empty, onSome: Logger.minimumLogLevel })
  )

/**
 * The process's logger: `pretty` by default on a terminal, `logfmt` otherwise;
 * lines go to the screen when there is one, else to stdout.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerProcess = (options: {
  readonly format: Option.Option<LogFormat>
  readonly level: Option.Option<LogLevel.LogLevel>
  readonly screen: Screen | undefined
}): Layer.Layer<never> => {
  const tty = process.stdout.isTTY === true
  const { screen } = options
  return layer({
    format: Option.getOrElse(options.format, (): LogFormat => (tty ? "pretty" : "logfmt")),
    level: options.level,
    write: screen === undefined ? (line) => process.stdout.write(`${line}\n`) : (line) => screen.print(line),
    colors: Ansi.colors(process.stdout)
  })
}
