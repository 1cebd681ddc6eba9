/**
 * A `node:http` answer as an `HttpClientResponse`: the response of
 * {@link NodeClient.layer}'s client.
 *
 * Its body is read from the message's own callbacks into one buffer, kept for
 * every later read (`text`, then `json`, is one read), within the
 * `HttpIncomingMessage.MaxBodySize` in context. `stream` reads the message
 * itself instead, for a body that is not to be kept.
 *
 * @since 0.1.0
 */
import { Cookies, Headers, HttpClientError, HttpClientResponse, HttpIncomingMessage, UrlParams } from "@effect/platform"
import type { HttpClientRequest } from "@effect/platform"
import * as NodeStream from "@effect/platform-node/NodeStream"
import { Context, Effect, Exit, Inspectable, Option, type Stream } from "effect"
import type * as Http from "node:http"
import { finished, Readable } from "node:stream"

const ignore = () => {}

type BodyExit = Exit.Exit<Buffer, HttpClientError.ResponseError>

/**
 * @since 0.1.0
 * @category models
 */
export class NodeResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId

  /** The body once read (or failed to be). */
  private body: BodyExit | undefined = undefined
  /** Readers waiting for the body while it is read. */
  private waiting: Array<(exit: BodyExit) => void> | undefined = undefined

  constructor(readonly request: HttpClientRequest.HttpClientRequest, readonly source: Http.IncomingMessage) {
    super()
    // An error nobody listens to would end the process (e.g. a reset while nobody reads the body).
    source.on("error", ignore)
  }

  get status(): number {
    return this.source.statusCode ?? 0
  }

  get headers(): Headers.Headers {
    return Headers.fromInput(this.source.headers as Record<string, string | ReadonlyArray<string> | undefined>)
  }

  get cookies(): Cookies.Cookies {
    const header = this.source.headers["set-cookie"]
    return header === undefined ? Cookies.empty : Cookies.fromSetCookie(header)
  }

  get remoteAddress(): Option.Option<string> {
    return Option.fromNullable(this.source.socket?.remoteAddress)
  }

  /** The body's bytes, read once: every read after the first gets what the first got. */
  private get bytes(): Effect.Effect<Buffer, HttpClientError.ResponseError> {
    return Effect.withFiberRuntime((fiber) => {
      if (this.body !== undefined) return this.body
      const maxBytes = Option.getOrUndefined(Context.get(fiber.currentContext, HttpIncomingMessage.MaxBodySize))
      return Effect.async<Buffer, HttpClientError.ResponseError>((resume) => {
        if (this.waiting !== undefined) this.waiting.push(resume)
        else this.read(maxBytes === undefined ? Infinity : Number(maxBytes), resume)
        return Effect.sync(() => {
          const index = this.waiting?.indexOf(resume) ?? -1
          if (index >= 0) this.waiting!.splice(index, 1)
        })
      })
    })
  }

  private read(maxBytes: number, first: (exit: BodyExit) => void): void {
    const { source } = this
    const chunks: Array<Buffer> = []
    let size = 0
    this.waiting = [first]
    const settle = (exit: BodyExit) => {
      if (this.waiting === undefined) return
      source.off("data", onData)
      stop()
      this.body = exit
      const waiting = this.waiting
      this.waiting = undefined
      for (const resume of waiting) resume(exit)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= maxBytes) return void chunks.push(chunk)
      // Past the limit nothing more is read: the connection goes with the rest of the body.
      settle(Exit.fail(this.decodeError(new Error(`body over ${maxBytes} bytes`))))
      source.destroy()
    }
    source.on("data", onData)
    // The end, an error or a close before the end (a broken connection), even if one came before this read.
    const stop = finished(source, { writable: false }, (error) =>
      settle(error ? Exit.fail(this.decodeError(error)) : Exit.succeed(Buffer.concat(chunks, size))))
  }

  private decodeError(cause: unknown): HttpClientError.ResponseError {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return Effect.map(this.bytes, (bytes) => bytes.toString("utf8"))
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: (): unknown => text === "" ? null : JSON.parse(text),
        catch: (cause) => this.decodeError(cause)
      }))
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return Effect.map(this.bytes, (bytes) => {
      const copy = new ArrayBuffer(bytes.length)
      new Uint8Array(copy).set(bytes)
      return copy
    })
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => UrlParams.fromInput(new URLSearchParams(text)),
        catch: (cause) => this.decodeError(cause)
      }))
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return NodeStream.fromReadable<HttpClientError.ResponseError, Uint8Array>(
      () => this.source,
      (cause) => this.decodeError(cause)
    )
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.tryPromise({
      try: () => {
        const init: ResponseInit = {
          headers: new globalThis.Headers(Object.entries(this.headers)),
          status: this.status,
          ...(this.source.statusMessage === undefined ? {} : { statusText: this.source.statusMessage })
        }
        return new Response(Readable.toWeb(this.source) as ReadableStream<Uint8Array>, init).formData()
      },
      catch: (cause) => this.decodeError(cause)
    })
  }

  toJSON(): unknown {
    return HttpIncomingMessage.inspect(this, {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
  }
}
