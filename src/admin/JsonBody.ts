/**
 * Reads a request's JSON body, refusing with the right 4xx what is not JSON,
 * too large, or not of the expected shape.
 *
 * The size limit is enforced while reading: a body announced larger than the
 * limit is refused without being read, and a chunked body is drained without
 * keeping more than the limit in memory, so that the client always gets its
 * 413 instead of a reset connection. Error messages never echo the body (it
 * may hold secrets such as API keys in URLs).
 *
 * @since 0.1.0
 */
import { HttpServerRequest } from "@effect/platform"
import { Effect, ParseResult, Schema, Stream } from "effect"
import { type AdminApiError, make as error } from "./AdminApiError.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface JsonBodyOptions {
  /** Largest body accepted, in bytes. */
  readonly maxBytes: number
  /** The expected shape, shown in the message of a 400. */
  readonly expected: string
}

const mediaType = (contentType: string | undefined): string =>
  (contentType ?? "").split(";")[0]!.trim().toLowerCase()

interface Collected {
  readonly chunks: Array<Uint8Array>
  readonly bytes: number
}

/** Reads the whole body but keeps at most `max + 1` bytes of it. */
const collect = (max: number) =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
    request.stream.pipe(
      Stream.runFold({ chunks: [], bytes: 0 } as Collected, (acc, chunk) => {
        if (acc.bytes <= max) acc.chunks.push(chunk)
        return { chunks: acc.chunks, bytes: acc.bytes + chunk.byteLength }
      }),
      Effect.mapError(() => error(400, "could not read the request body"))
    ))

const pathOf = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (out, key) => typeof key === "number" ? `${out}[${key}]` : out === "" ? String(key) : `${out}.${String(key)}`,
    ""
  )

/** Where and how the body differs from the schema, without the values it holds. */
const shapeError = (parseError: ParseResult.ParseError, expected: string): AdminApiError => {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(parseError)[0]
  const where = issue === undefined || issue.path.length === 0 ? "the body" : pathOf(issue.path)
  const what = issue?._tag === "Missing" ? "is missing" : "has the wrong type"
  return error(400, `${where} ${what}: expected ${expected}`)
}

/**
 * Decodes the body with `schema`: 415 unless `application/json`, 413 when over
 * `maxBytes`, 400 for bad UTF-8, bad JSON or a wrong shape.
 *
 * @since 0.1.0
 * @category constructors
 */
export const read = <A, I>(
  schema: Schema.Schema<A, I>,
  options: JsonBodyOptions
): Effect.Effect<A, AdminApiError, HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const type = mediaType(request.headers["content-type"])
    if (type !== "application/json") {
      return yield* error(
        415,
        `content type must be application/json, got ${type === "" ? "none" : JSON.stringify(type.slice(0, 64))}`
      )
    }
    const tooLarge = error(413, `the body is larger than ${options.maxBytes} bytes`)
    const announced = Number(request.headers["content-length"] ?? "0")
    if (announced > options.maxBytes) return yield* tooLarge
    const { bytes, chunks } = yield* collect(options.maxBytes)
    if (bytes > options.maxBytes) return yield* tooLarge
    const text = yield* Effect.try({
      try: () => new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks)),
      catch: () => error(400, "the body is not UTF-8")
    })
    const json = yield* Effect.try({
      try: (): unknown => JSON.parse(text),
      catch: () => error(400, `the body is not valid JSON: expected ${options.expected}`)
    })
    return yield* Schema.decodeUnknown(schema)(json).pipe(
      Effect.mapError((parseError) => shapeError(parseError, options.expected))
    )
  })
