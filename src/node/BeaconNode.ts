/**
 * Identity of a beacon node (BN).
 *
 * A node is identified by its normalised base URL, so two spellings of one node
 * are one node. Secrets in the URL (a userinfo password, query values such as API
 * keys, and path segments or user names that look like keys, as providers put
 * them: `https://host/v2/<key>`) never leave this module except inside `id`, which
 * is only used to talk to the node: everything shown to a human uses `display`.
 *
 * @since 0.1.0
 */
import { Brand, Data, Either, Equal, Hash, Inspectable } from "effect"

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

  /**
   * The URL of an API path on this node, e.g. `/eth/v1/events`: appended to the
   * base path with exactly one slash; the base's query (an API key) is kept.
   */
  endpoint(path: string): URL {
    const url = new URL(this.id)
    url.pathname = url.pathname.replace(/\/+$/, "") + (path.startsWith("/") ? path : `/${path}`)
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

  /** `console.log` and `util.inspect` would otherwise print `id`, secrets included. */
  [Inspectable.NodeInspectSymbol](): string {
    return this.display
  }
}

const REDACTED = "***"

/** `scheme://` at the start of an input; group 1 is the scheme. */
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i

/**
 * Whether a path segment or user name looks like a key rather than a name: 16 or
 * more token characters mixing letters and digits (a provider's API key, a
 * project id, a UUID). Errs on the side of hiding: a long name with digits in it
 * is hidden too, which costs a less readable display, never a leak.
 */
const looksLikeKey = (part: string): boolean =>
  part.length >= 16 && /^[A-Za-z0-9_~%+=-]+$/.test(part) && /[A-Za-z]/.test(part) && /[0-9]/.test(part)

/** A user name that is a key (`https://<key>@host`) is hidden like a password. */
const redactUser = (user: string): string => (looksLikeKey(user) ? REDACTED : user)

/** `/v2/<key>` becomes `/v2/***`. */
const redactPath = (path: string): string =>
  path.split("/").map((segment) => (looksLikeKey(segment) ? REDACTED : segment)).join("/")

/**
 * Hides every value of a query string (without its `?`): `k=v` becomes
 * `k=***`, and a bare `token` (which may itself be a key) becomes `***`.
 */
const redactQuery = (query: string): string =>
  query.split("&").map((part) => {
    const equals = part.indexOf("=")
    return equals >= 0 ? `${part.slice(0, equals + 1)}${REDACTED}` : part === "" ? "" : REDACTED
  }).join("&")

/**
 * Removes what may be a secret from an input that was rejected. It may not parse
 * as a URL at all, so this works on the raw string and errs on the side of
 * hiding: everything up to the last `@` counts as userinfo (a password may hold
 * `/`, `#` or `@`), a fragment is hidden whole and every query value is hidden.
 */
const redactInput = (input: string): string => {
  const scheme = SCHEME.exec(input)?.[0] ?? ""
  const rest = input.slice(scheme.length)
  const at = rest.lastIndexOf("@")
  const userinfo = rest.slice(0, Math.max(at, 0))
  const colon = userinfo.indexOf(":")
  const shownUserinfo = at < 0
    ? ""
    : /[/?#]/.test(userinfo)
    ? `${REDACTED}@`
    : colon >= 0
    ? `${redactUser(userinfo.slice(0, colon))}:${REDACTED}@`
    : `${redactUser(userinfo)}@`
  const tail = rest.slice(at + 1)
  const hash = tail.indexOf("#")
  const beforeHash = hash >= 0 ? tail.slice(0, hash) : tail
  const question = beforeHash.indexOf("?")
  const query = question >= 0 ? `?${redactQuery(beforeHash.slice(question + 1))}` : ""
  const fragment = hash >= 0 ? `#${REDACTED}` : ""
  const authorityAndPath = question >= 0 ? beforeHash.slice(0, question) : beforeHash
  const slash = authorityAndPath.indexOf("/")
  const shownPath = slash >= 0
    ? `${authorityAndPath.slice(0, slash)}${redactPath(authorityAndPath.slice(slash))}`
    : authorityAndPath
  return `${scheme}${shownUserinfo}${shownPath}${query}${fragment}`
}

/**
 * Renders a parsed URL in canonical form. WHATWG URL already lower-cases scheme
 * and host and drops the scheme's default port; we drop trailing slashes.
 */
const render = (url: URL, redact: boolean): string => {
  const path = url.pathname.replace(/\/+$/, "")
  const password = url.password === "" ? "" : `:${redact ? REDACTED : url.password}`
  const username = redact ? redactUser(url.username) : url.username
  const userinfo = username === "" && password === "" ? "" : `${username}${password}@`
  const search = redact && url.search !== "" ? `?${redactQuery(url.search.slice(1))}` : url.search
  return `${url.protocol}//${userinfo}${url.host}${redact ? redactPath(path) : path}${search}`
}

/**
 * Parses and normalises a beacon node URL: `http:` or `https:` only, no fragment,
 * scheme and host lower-cased, default port and trailing slash dropped, path kept.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parse = (input: string): Either.Either<BeaconNode, InvalidBeaconNodeUrl> => {
  const trimmed = input.trim()
  const fail = (reason: string) => Either.left(new InvalidBeaconNodeUrl({ input: redactInput(trimmed), reason }))
  if (trimmed === "") return fail("empty")
  const scheme = SCHEME.exec(trimmed)?.[1]?.toLowerCase()
  // Checked before `new URL`, which would read `localhost:5052` as the scheme `localhost:`.
  if (scheme === undefined) return fail("not an absolute URL: it must start with http:// or https://")
  if (scheme !== "http" && scheme !== "https") return fail(`scheme must be http or https, got ${scheme.slice(0, 32)}`)
  // Also an empty fragment: `#` cannot appear in a URL other than as the fragment's start.
  if (trimmed.includes("#")) return fail("a fragment (#...) is not allowed")
  let url: URL
  try {
    url = new URL(trimmed)
  } catch {
    return fail("not a valid URL")
  }
  return Either.right(new BeaconNode(render(url, false) as BeaconNodeId, render(url, true)))
}

/**
 * Like {@link parse} but throws; for literals in code and tests.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeParse = (input: string): BeaconNode => Either.getOrThrow(parse(input))
