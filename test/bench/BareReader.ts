/**
 * The baseline client: a bare `node:http` request that splits the body into
 * lines and `JSON.parse`s every `data:` line. No reconnects, no validation,
 * no bookkeeping: the least any SSE consumer does.
 */
import * as Http from "node:http"

export interface BareReader {
  readonly close: () => void
}

/** Opens the head event stream of the node at `base` and calls `onData` with every parsed `data:` payload. */
export const open = (base: string, onData: (data: { readonly slot: string }) => void): BareReader => {
  const request = Http.get(`${base}/eth/v1/events?topics=head`, { headers: { accept: "text/event-stream" } }, (response) => {
    response.setEncoding("utf8")
    let pending = ""
    response.on("data", (chunk: string) => {
      pending += chunk
      let start = 0
      for (let end = pending.indexOf("\n", start); end >= 0; end = pending.indexOf("\n", start)) {
        if (pending.startsWith("data:", start)) onData(JSON.parse(pending.slice(start + 5, end)))
        start = end + 1
      }
      pending = pending.slice(start)
    })
    response.on("error", () => {})
  })
  request.on("error", () => {})
  return { close: () => request.destroy() }
}
