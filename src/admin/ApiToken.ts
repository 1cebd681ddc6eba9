/**
 * The bearer token that guards the admin API.
 *
 * The token comes from configuration; without one it is read from the token
 * file, or generated and written there readable by its owner only (as
 * Lighthouse's `api-token.txt`), and the file's path is logged so an operator
 * can find it. The token itself is never logged. Requests are checked in
 * constant time.
 *
 * @since 0.1.0
 */
import { FileSystem } from "@effect/platform"
import { Context, Data, Effect, Layer, Redacted } from "effect"
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import * as Path from "node:path"

/**
 * The token could not be set up: the file is unreadable, empty, readable by
 * others, or could not be written.
 *
 * @since 0.1.0
 * @category errors
 */
export class ApiTokenError extends Data.TaggedError("ApiTokenError")<{
  readonly path: string
  readonly reason: string
}> {
  override get message() {
    return `admin API token file ${this.path}: ${this.reason}`
  }
}

/**
 * Where the token comes from.
 *
 * @since 0.1.0
 * @category models
 */
export interface ApiTokenOptions {
  /** The token itself; when given, no file is read or written. */
  readonly token?: Redacted.Redacted<string> | string | undefined
  /** File holding the token (read if it exists, else generated and written with mode 0600); default `api-token.txt`. */
  readonly tokenFile?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ApiTokenService {
  /** True when the `Authorization` header value is `Bearer <the token>`. */
  readonly authorizes: (authorization: string | undefined) => boolean
}

/**
 * @since 0.1.0
 * @category tags
 */
export class ApiToken extends Context.Tag("beacon-head-monitor/ApiToken")<ApiToken, ApiTokenService>() {}

/**
 * The token file used when none is configured, relative to the working directory.
 *
 * @since 0.1.0
 */
export const defaultTokenFile = "api-token.txt"

// Comparing digests makes both sides the same length, so timingSafeEqual never
// throws and the comparison time does not depend on the token's length either.
const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()

const bearer = /^Bearer +(\S+) *$/i

/**
 * A checker for a known token.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromSecret = (token: Redacted.Redacted<string>): ApiTokenService => {
  const expected = digest(Redacted.value(token))
  return {
    authorizes: (authorization) => {
      const presented = authorization === undefined ? undefined : bearer.exec(authorization)?.[1]
      // Still compare when nothing usable was presented, so that every answer costs the same.
      const equal = timingSafeEqual(digest(presented ?? ""), expected)
      return presented !== undefined && equal
    }
  }
}

/** A fresh token: 32 random bytes, hex. */
const generate = (): string => randomBytes(32).toString("hex")

/** Permission bits for group and others: a token file must have none. */
const groupOrOthers = 0o077

const fromFile = (file: string): Effect.Effect<Redacted.Redacted<string>, ApiTokenError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = Path.resolve(file)
    const fail = (reason: string) => new ApiTokenError({ path, reason })
    if (yield* fs.exists(path).pipe(Effect.mapError((e) => fail(e.message)))) {
      const info = yield* fs.stat(path).pipe(Effect.mapError((e) => fail(e.message)))
      if ((info.mode & groupOrOthers) !== 0) {
        return yield* fail(`readable by others (mode ${(info.mode & 0o777).toString(8)}): run chmod 600 on it`)
      }
      const token = (yield* fs.readFileString(path).pipe(Effect.mapError((e) => fail(e.message)))).trim()
      if (token === "") return yield* fail("empty")
      yield* Effect.logInfo("admin API token read").pipe(Effect.annotateLogs({ tokenFile: path }))
      return Redacted.make(token)
    }
    const token = generate()
    // `wx`: never overwrite a file created meanwhile; mode 0600 is set at creation (umask only removes bits).
    yield* fs.writeFileString(path, `${token}\n`, { flag: "wx", mode: 0o600 }).pipe(
      Effect.mapError((e) => fail(e.message))
    )
    yield* Effect.logInfo("admin API token generated").pipe(Effect.annotateLogs({ tokenFile: path }))
    return Redacted.make(token)
  })

/**
 * Resolves the token as the options say and returns its checker.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: ApiTokenOptions = {}
): Effect.Effect<ApiTokenService, ApiTokenError, FileSystem.FileSystem> => {
  const { token } = options
  if (token === undefined) return Effect.map(fromFile(options.tokenFile ?? defaultTokenFile), fromSecret)
  const value = (Redacted.isRedacted(token) ? Redacted.value(token) : token).trim()
  // A bearer token is one word: one with blanks inside could never be presented.
  return value === "" || /\s/.test(value)
    ? Effect.fail(new ApiTokenError({ path: "(configuration)", reason: "the configured token is empty or has blanks" }))
    : Effect.succeed(fromSecret(Redacted.make(value)))
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: ApiTokenOptions = {}): Layer.Layer<ApiToken, ApiTokenError, FileSystem.FileSystem> =>
  Layer.effect(ApiToken, make(options))
