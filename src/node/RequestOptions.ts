/**
 * How every request to a node is made beyond its URL: extra headers (an API
 * key, `Authorization: Bearer …`) and extra CA certificates trusted for HTTPS,
 * for all nodes or per node. The same options go with every request to a node:
 * its event stream, the seed, health polls, routing.
 *
 * Header values are secrets: they are kept `Redacted`, so a log line, an error
 * or a JSON dump of the options shows `<redacted>`, never the value.
 *
 * @since 0.1.0
 */
import { Context, Data, Effect, Either, Layer, Redacted } from "effect"
import { rootCertificates } from "node:tls"
import { type BeaconNode, parse } from "./BeaconNode.js"

/**
 * Options for one node, or for all.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestOptions {
  /** Sent with every request: name → value (a string, or already `Redacted`). */
  readonly headers?: Readonly<Record<string, string | Redacted.Redacted<string>>>
  /** PEM certificates trusted for HTTPS besides the system's roots. */
  readonly ca?: ReadonlyArray<string>
}

/**
 * Options for every node, and per node (keyed by the node's URL, as in the candidate list): a node's own headers
 * win over the shared ones of the same name; its CAs are added to the shared ones.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestOptionsInput extends RequestOptions {
  readonly nodes?: Readonly<Record<string, RequestOptions>>
}

/**
 * What goes with the requests to one node.
 *
 * @since 0.1.0
 * @category models
 */
export interface NodeOptions {
  readonly headers: ReadonlyArray<readonly [name: string, value: Redacted.Redacted<string>]>
  readonly ca: ReadonlyArray<string>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RequestOptionsService {
  readonly forNode: (node: BeaconNode) => NodeOptions
  /** Every CA of every node: for a client shared by all nodes. */
  readonly allCa: ReadonlyArray<string>
}

const none: NodeOptions = { headers: [], ca: [] }

/**
 * The options in effect; none unless provided (`HeadMonitor.layer` provides its configuration's).
 *
 * @since 0.1.0
 * @category tags
 */
export class NodeRequestOptions extends Context.Reference<NodeRequestOptions>()(
  "beacon-head-monitor/NodeRequestOptions",
  { defaultValue: (): RequestOptionsService => ({ forNode: () => none, allCa: [] }) }
) {}

/** RFC 9110 token: the characters a header name may have. */
const headerName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** A header value may not hold control characters other than tab (no CR/LF: no header injection). */
const headerValue = /^[\t\x20-\x7e\x80-\xff]*$/

/**
 * What is wrong with a header, or `undefined`; never repeats its value.
 *
 * @since 0.1.0
 */
export const headerProblem = (name: string, value: string): string | undefined => {
  if (!headerName.test(name)) return `header name ${JSON.stringify(name.slice(0, 40))} has characters a header name may not have`
  if (!headerValue.test(value)) return `the value of header ${name} has characters a header value may not have`
  return undefined
}

/**
 * Parses `NAME=VALUE[,NAME=VALUE]` (as Prysm's `--grpc-headers`); the error names the entry by its position and
 * name only, never its value.
 *
 * @since 0.1.0
 */
export const parseHeaders = (raw: string): Either.Either<Record<string, Redacted.Redacted<string>>, string> => {
  const headers: Record<string, Redacted.Redacted<string>> = {}
  for (const [index, entry] of raw.split(",").entries()) {
    if (entry.trim() === "") continue
    const at = entry.indexOf("=")
    if (at === -1) return Either.left(`entry ${index} has no "=" (NAME=VALUE)`)
    const name = entry.slice(0, at).trim()
    const value = entry.slice(at + 1).trim()
    const problem = name === "" ? `entry ${index} has no header name before "="` : headerProblem(name, value)
    if (problem !== undefined) return Either.left(problem)
    headers[name] = Redacted.make(value)
  }
  return Either.right(headers)
}

const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/

/**
 * Whether a file's text holds at least one PEM certificate.
 *
 * @since 0.1.0
 */
export const isPem = (text: string): boolean => pem.test(text)

/** Headers as name/value pairs, values redacted, checked; a problem is thrown as an Error naming the header. */
const checkedHeaders = (headers: RequestOptions["headers"]) =>
  Object.entries(headers ?? {}).map(([name, value]): readonly [string, Redacted.Redacted<string>] => {
    const redacted = Redacted.isRedacted(value) ? value : Redacted.make(value)
    const problem = headerProblem(name, Redacted.value(redacted))
    if (problem !== undefined) throw new InvalidRequestOptions({ problem })
    return [name.toLowerCase(), redacted]
  })

/**
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequestOptions extends Data.TaggedError("InvalidRequestOptions")<{ readonly problem: string }> {
  override get message() {
    return this.problem
  }
}

/**
 * Resolves the options per node. Fails with {@link InvalidRequestOptions} for a header name or value that may not
 * be sent, a CA that is not PEM or a node key that is not a node URL (messages never repeat a header's value).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (input: RequestOptionsInput = {}): Either.Either<RequestOptionsService, InvalidRequestOptions> =>
  Either.try({
    try: () => resolve(input),
    catch: (error) => error instanceof InvalidRequestOptions ? error : new InvalidRequestOptions({ problem: String(error) })
  })

const resolve = (input: RequestOptionsInput): RequestOptionsService => {
  const shared = checkedHeaders(input.headers)
  const checkedCa = (ca: ReadonlyArray<string> | undefined) => {
    for (const [index, text] of (ca ?? []).entries()) {
      if (!isPem(text)) throw new InvalidRequestOptions({ problem: `CA ${index} is not a PEM certificate` })
    }
    return ca ?? []
  }
  const sharedCa = checkedCa(input.ca)
  const perNode = new Map<string, NodeOptions>()
  for (const [url, options] of Object.entries(input.nodes ?? {})) {
    const node = parse(url)
    if (Either.isLeft(node)) throw new InvalidRequestOptions({ problem: `request options for a node: ${node.left.message}` })
    const own = checkedHeaders(options.headers)
    const names = new Set(own.map(([name]) => name))
    perNode.set(node.right.id, {
      headers: [...shared.filter(([name]) => !names.has(name)), ...own],
      ca: [...sharedCa, ...checkedCa(options.ca)]
    })
  }
  const forAll: NodeOptions = shared.length === 0 && sharedCa.length === 0 ? none : { headers: shared, ca: sharedCa }
  return {
    forNode: (node) => perNode.get(node.id) ?? forAll,
    allCa: [...new Set([...sharedCa, ...[...perNode.values()].flatMap((options) => options.ca)])]
  }
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (input: RequestOptionsInput = {}): Layer.Layer<NodeRequestOptions, InvalidRequestOptions> =>
  Layer.effect(NodeRequestOptions, Effect.suspend(() => make(input)))

/**
 * The CAs an HTTPS connection trusts: the system's roots and `ca` (Node's `ca` option replaces the roots, so they
 * are given with it), or `undefined` (Node's default) when there are none.
 *
 * @since 0.1.0
 */
export const trusted = (ca: ReadonlyArray<string>): Array<string> | undefined =>
  ca.length === 0 ? undefined : [...rootCertificates, ...ca]
