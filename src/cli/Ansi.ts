/**
 * Whether output may carry ANSI escape codes, and removing them where it may
 * not: only a terminal gets them, and no colour at all when `NO_COLOR` is set
 * to anything but "" (no-color.org). Applies to help, log lines and errors.
 *
 * @since 0.1.0
 */
import { Console, Effect } from "effect"

/**
 * Colours for `stream`: a terminal, and `NO_COLOR` unset or empty.
 *
 * @since 0.1.0
 */
export const colors = (stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean =>
  stream.isTTY === true && (env["NO_COLOR"] ?? "") === ""

/** CSI sequences: colours, styles, cursor movement. */
const escapes = /\x1b\[[0-9;?]*[A-Za-z]/g

/**
 * The text without ANSI escape codes.
 *
 * @since 0.1.0
 */
export const strip = (text: string): string => text.replace(escapes, "")

/** @effect/cli's help for every text option: it says nothing our descriptions and value names do not. */
const filler = /^ *A user-defined piece of text\.\n\n/gm

const clean = (allowed: boolean) => (arg: unknown): unknown =>
  typeof arg === "string" ? (allowed ? arg : strip(arg)).replace(filler, "") : arg

/**
 * Runs `effect` with a console that leaves out @effect/cli's filler line under
 * each option of `--help`, and the escape codes its help and error messages
 * carry unless stdout (for `log`) or stderr (for `error`) may have colours.
 *
 * @since 0.1.0
 */
export const withCliConsole = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.console, (console) => {
    const out = clean(colors(process.stdout))
    const err = clean(colors(process.stderr))
    const log = (...args: ReadonlyArray<unknown>) => console.log(...args.map(out))
    const error = (...args: ReadonlyArray<unknown>) => console.error(...args.map(err))
    return Console.withConsole(effect, {
      ...console,
      log,
      error,
      unsafe: {
        ...console.unsafe,
        log: (...args) => console.unsafe.log(...args.map(out)),
        error: (...args) => console.unsafe.error(...args.map(err))
      }
    })
  })
