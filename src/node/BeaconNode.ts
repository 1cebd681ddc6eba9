/**
 * Identity of a beacon node (BN).
 *
 * A node is identified by its normalised base URL, so two spellings of one node
 * are one node. Secrets in the URL (a userinfo password, query values such as API
 * keys) never leave this module except inside `url`, which is only used to talk
 * to the node: everything that is shown to a human uses `display`.
 *
 * @since 0.1.0
 */
import { Brand, Data, Either, Equal, Hash } from "effect"

/**
 * The normalised base URL of a beacon node, used as its key everywhere.
 *
 * @since 0.1.0
 * @category models
 */
export type BeaconNodeId = string & Brand.Brand<"BeaconNodeId">

/**
 * @since 0.1.0
 * @category errors
 */
export class InvalidBeaconNodeUrl extends Data.TaggedError("InvalidBeaconNodeUrl")<{
  /** The offending input, with anything that looks like a secret removed. */
  readonly input: string
  readonly reason: string
}> {
  override get message() {
    return `invalid beacon node URL ${JSON.stringify(this.input)}: ${this.reason}`
  }
}

/**
 * A beacon node: its identity, the URL used to reach it and the display form
 * that is safe to log.
 *
 * @since 0.1.0
 * @category models
 */
export class BeaconNode implements Equal.Equal {
  constructor(
    /** Normalised base URL (may contain secrets: never log it). */
    readonly id: BeaconNodeId,
    /** The same URL with secrets removed: the only form that may be shown. */
    readonly display: string
  ) {}

  /** The URL of an API path on this node, e.g. `/eth/v1/events`. */
  endpoint(path: string): URL {
    const url = new URL(this.id)
    url.pathname = url.pathname === "/" ? path : url.pathname + path
    return url
  }

  [Equal.symbol](that: unknown): boolean {
    return that instanceof BeaconNode && that.id === this.id
  }

  [Hash.symbol](): number {
    return Hash.string(this.id)
  }

  toString(): string {
    return this.display
  }

  toJSON(): string {
    return this.display
  }
}

const REDACTED = "***"

/** Removes what may be a secret from any string that failed to parse as a URL. */
const redactInput = (input: string): string =>
  input
    .replace(/\/\/([^/@\s]*)@/, (_, userinfo: string) => `//${userinfo.split(":")[0]}${userinfo.includes(":") ? `:${REDACTED}` : ""}@`)
    .replace(/([?&][^=&#\s]+)=[^&#\s]*/g, `$1=${REDACTED}`)

/**
 * Renders a parsed URL in canonical form. WHATWG URL already lower-cases scheme
 * and host and drops the scheme's default port; we drop trailing slashes.
 */
const render = (url: URL, redact: boolean): string => {
  const path = url.pathname.replace(/\/+$/, "")
  const password = url.password === "" ? "" : `:${redact ? REDACTED : url.password}`
  const userinfo = url.username === "" ? "" : `${url.username}${password}@`
  const search = redact && url.search !== ""
    ? `?${[...url.searchParams.keys()].map((key) => `${encodeURIComponent(key)}=${REDACTED}`).join("&")}`
    : url.search
  return `${url.protocol}//${userinfo}${url.host}${path}${search}`
}

/**
 * Parses and normalises a beacon node URL: `http:` or `https:` only, no fragment,
 * scheme and host lower-cased, default port and trailing slash dropped, path kept.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parse = (input: string): Either.Either<BeaconNode, InvalidBeaconNodeUrl> => {
  const fail = (reason: string) => Either.left(new InvalidBeaconNodeUrl({ input: redactInput(input.trim()), reason }))
  const trimmed = input.trim()
  if (trimmed === "") return fail("empty")
  let url: URL
  try {
    url = new URL(trimmed)
  } catch {
    return fail("not an absolute URL")
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return fail(`scheme must be http or https, got ${url.protocol.slice(0, -1)}`)
  }
  if (url.hostname === "") return fail("missing host")
  if (url.hash !== "") return fail("a fragment (#...) is not allowed")
  return Either.right(new BeaconNode(render(url, false) as BeaconNodeId, render(url, true)))
}

/**
 * Like {@link parse} but throws; for literals in code and tests.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeParse = (input: string): BeaconNode => Either.getOrThrow(parse(input))
