/**
 * The admin API's error answer, shaped like Lighthouse's: `{"code": 400,
 * "message": "..."}`, plus the wrong entries when a proposed node list is
 * refused. Messages hold display forms only, never a secret.
 *
 * @since 0.1.0
 */
import { HttpServerResponse } from "@effect/platform"
import { Schema } from "effect"
import type { InvalidCandidateList } from "../candidates/CandidateList.js"

/**
 * One wrong entry of a refused node list.
 *
 * @since 0.1.0
 * @category schemas
 */
export const InvalidEntry = Schema.Struct({
  /** Position in the proposed list, or -1 for the list as a whole (empty, too long). */
  index: Schema.Int,
  /** The entry with secrets removed. */
  entry: Schema.String,
  reason: Schema.String
})

const fields = {
  /** The HTTP status. */
  code: Schema.Int,
  message: Schema.String,
  invalid_entries: Schema.optional(Schema.Array(InvalidEntry))
}

/**
 * The error body on the wire.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ErrorBody = Schema.Struct(fields)

/**
 * A request the admin API refuses, with the status it is answered with.
 *
 * @since 0.1.0
 * @category errors
 */
export class AdminApiError extends Schema.TaggedError<AdminApiError>()("AdminApiError", fields) {}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (code: number, message: string): AdminApiError => new AdminApiError({ code, message })

/**
 * A refused node list: 400, naming every wrong entry.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromInvalidList = (error: InvalidCandidateList): AdminApiError =>
  new AdminApiError({
    code: 400,
    message: `invalid beacon node list: ${error.message}`,
    invalid_entries: error.entries
  })

const extraHeaders = (code: number): Record<string, string> =>
  code === 401 ? { "www-authenticate": "Bearer" } : {}

/**
 * The error as an HTTP response (status = `code`).
 *
 * @since 0.1.0
 * @category conversions
 */
export const toResponse = (
  error: AdminApiError,
  headers: Record<string, string> = {}
): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson(Schema.encodeSync(ErrorBody)(error), {
    status: error.code,
    headers: { ...extraHeaders(error.code), ...headers }
  })
