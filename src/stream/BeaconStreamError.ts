/**
 * Why one connection to a beacon node's event stream ended.
 *
 * Every end of a connection is one of these: a normal end of the response is a
 * failure too, so that the retry policy reconnects. Messages carry only the
 * node's display form and error codes, never a URL with secrets.
 *
 * @since 0.1.0
 */
import { type Cause, Data } from "effect"
import { errorCode } from "../internal/errorCode.js"

/**
 * - `refused`, `reset`, `timeout`, `unreachable`, `server_error`, `ended`: transient;
 * - `stalled`: no bytes for the idle limit (keep-alive comments count);
 * - `oversized`: one event grew past the size limit;
 * - `rejected`: the node answered 400/401/403/404/405 (or another 4xx, or a non-SSE 200): retried at the capped delay;
 * - `defect`: handling the node's events failed unexpectedly (a bug): this connection only is dropped and retried;
 * - `tls`: the TLS handshake failed (unknown CA, wrong host name, expired certificate): retried at the capped delay.
 *
 * @since 0.1.0
 * @category models
 */
export type DisconnectReason =
  | "refused"
  | "reset"
  | "timeout"
  | "unreachable"
  | "server_error"
  | "ended"
  | "stalled"
  | "oversized"
  | "rejected"
  | "defect"
  | "tls"

/**
 * @since 0.1.0
 * @category models
 */
export const disconnectReasons: ReadonlyArray<DisconnectReason> = [
  "refused",
  "reset",
  "timeout",
  "unreachable",
  "server_error",
  "ended",
  "stalled",
  "oversized",
  "rejected",
  "defect",
  "tls"
]

/**
 * @since 0.1.0
 * @category errors
 */
export class BeaconStreamError extends Data.TaggedError("BeaconStreamError")<{
  /** Display form of the node (no secrets). */
  readonly node: string
  readonly reason: DisconnectReason
  /** A short, secret-free detail: an error code, an HTTP status, a limit. */
  readonly detail: string
  /** The HTTP status, when the node answered with one. */
  readonly status?: number
  /** For `defect`: what went wrong, for the log (it is not part of the message). */
  readonly defect?: Cause.Cause<unknown>
}> {
  /** Rejected nodes (`rejected`, `tls`) are still retried, but only at the capped delay. */
  get isRejected(): boolean {
    return this.reason === "rejected" || this.reason === "tls"
  }

  override get message() {
    return `${this.node}: ${this.reason} (${this.detail})`
  }
}

const transportReasons: Record<string, DisconnectReason> = {
  ECONNREFUSED: "refused",
  ECONNRESET: "reset",
  EPIPE: "reset",
  ECONNABORTED: "reset",
  ETIMEDOUT: "timeout",
  ESOCKETTIMEDOUT: "timeout",
  UND_ERR_CONNECT_TIMEOUT: "timeout",
  UND_ERR_HEADERS_TIMEOUT: "timeout",
  UND_ERR_BODY_TIMEOUT: "timeout",
  UND_ERR_SOCKET: "reset",
  ENOTFOUND: "unreachable",
  EAI_AGAIN: "unreachable",
  EHOSTUNREACH: "unreachable",
  ENETUNREACH: "unreachable",
  EADDRNOTAVAIL: "unreachable",
  // The certificate check of the TLS handshake (OpenSSL's and Node's codes).
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "tls",
  UNABLE_TO_GET_ISSUER_CERT: "tls",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "tls",
  SELF_SIGNED_CERT_IN_CHAIN: "tls",
  DEPTH_ZERO_SELF_SIGNED_CERT: "tls",
  CERT_HAS_EXPIRED: "tls",
  CERT_NOT_YET_VALID: "tls",
  CERT_UNTRUSTED: "tls",
  CERT_REJECTED: "tls",
  CERT_SIGNATURE_FAILURE: "tls",
  ERR_TLS_CERT_ALTNAME_INVALID: "tls",
  ERR_SSL_WRONG_VERSION_NUMBER: "tls",
  EPROTO: "tls"
}

/**
 * Classifies a transport error (from the HTTP client or the body stream).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromTransport = (node: string, error: unknown): BeaconStreamError => {
  const code = errorCode(error)
  const reason = code === undefined ? "reset" : transportReasons[code] ?? "reset"
  return new BeaconStreamError({ node, reason, detail: code ?? "connection error" })
}

/**
 * Classifies a response status other than 200.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromStatus = (node: string, status: number): BeaconStreamError =>
  new BeaconStreamError({
    node,
    reason: status >= 500 || status === 408 || status === 429 ? "server_error" : "rejected",
    detail: `HTTP ${status}`,
    status
  })

/**
 * The `defect` of a connection whose events could not be handled (a bug): it
 * drops that connection only.
 *
 * @since 0.1.0
 * @category constructors
 */
export const handlingFailed = (node: string, cause: Cause.Cause<unknown>): BeaconStreamError =>
  new BeaconStreamError({ node, reason: "defect", detail: "handling its events failed", defect: cause })
