#!/usr/bin/env node
/**
 * The process entrypoint (`npm start`, the package's `bin`).
 *
 * A start-up failure is one line on stderr and exit code 1 (the command-line
 * parser prints its own one-line message for a bad flag). SIGINT/SIGTERM
 * interrupt the program: every stream and server closes, a last line says so,
 * and the exit code is 0.
 *
 * @since 0.1.0
 */
import { ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Console, Effect } from "effect"
import * as Ansi from "./cli/Ansi.js"
import * as Cli from "./cli/Cli.js"

Cli.run(process.argv).pipe(
  Effect.tapErrorCause((cause) => {
    if (Cause.isInterruptedOnly(cause)) return Effect.void
    const error = Cause.squash(cause)
    // @effect/cli has already printed its validation errors.
    if (ValidationError.isValidationError(error)) return Effect.void
    const message = error instanceof Error ? error.message : String(error)
    return Console.error(`beacon-head-monitor: ${message.split("\n")[0]}`)
  }),
  Ansi.withCliConsole,
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
)
