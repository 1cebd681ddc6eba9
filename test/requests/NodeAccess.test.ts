/**
 * Reaching real providers, over real sockets: an HTTPS beacon node signed by a private CA and guarded by an API
 * key header. The CA and the node's certificate are made at test time with `openssl` (nothing private is kept in
 * the repository): followed with the CA and the header; without the CA → `tls`; without the header → 401,
 * `rejected`; and the header's value in no log line, status, error or flag message.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import type { NodeStatus } from "../../src/monitor/NodeStatus.js"
import { isPem, parseHeaders } from "../../src/node/RequestOptions.js"
import { type Certificates, makeCertificates, startHttpsNode } from "../support/tlsNode.js"
import { waitFor } from "../support/wait.js"
import { captureLogs } from "../health/logs.js"

const secret = "k3y-Th4t-mUst-n0t-LEAK"

const certificates = Effect.acquireRelease(Effect.sync(makeCertificates), (made) => Effect.sync(made.remove))
const httpsNode = (made: Certificates) =>
  Effect.acquireRelease(Effect.promise(() => startHttpsNode(made, secret)), (node) => Effect.promise(node.close))

describe("HTTPS nodes with a private CA and an API key header (real sockets)", () => {
  it.scopedLive("followed with the CA and the header; tls without the CA; rejected without the header; the key never shown", () =>
    Effect.gen(function*() {
      const made = yield* certificates
      const { ca } = made
      const node = yield* httpsNode(made)
      const logs = captureLogs()
      const follow = (
        requests: { readonly ca?: ReadonlyArray<string>; readonly headers?: Record<string, string> },
        seeded = false
      ) =>
        Effect.gen(function*() {
          const monitor = yield* HeadMonitor.HeadMonitor
          const verdict = yield* waitFor("a verdict", Effect.map(monitor.status, ([status]) =>
            status !== undefined && (status.head !== undefined || status.state._tag === "Rejected") && status), 20_000)
          // The seed on connect is a REST request of its own: it carries the key too.
          if (seeded) yield* waitFor("the seed", Effect.sync(() => node.seen.includes("/eth/v1/beacon/headers/head key")))
          return verdict
        }).pipe(
          Effect.provide(
            HeadMonitor.layerNode([node.url], { requests, slotDuration: "12 seconds", retry: { maxDelay: "30 seconds", jitter: { min: 1, max: 1 } } })
              .pipe(Layer.provide(logs.layer))
          ),
          Logger.withMinimumLogLevel(LogLevel.All)
        )
      const state = (status: NodeStatus) =>
        status.state._tag === "Rejected" ? `${status.state.reason} ${status.state.detail}` : status.state._tag

      const followed = yield* follow({ ca: [ca], headers: { "X-Api-Key": secret } }, true)
      expect(followed.head?.slot).toBe(7)
      expect(followed.state._tag).toBe("Open")

      const untrusted = yield* follow({ headers: { "X-Api-Key": secret } })
      expect(untrusted.state._tag).toBe("Rejected")
      expect(state(untrusted)).toMatch(/^tls /)
      expect(untrusted.counters.disconnects.tls).toBe(1)
      // Retried at the capped delay, like a rejection (not the 250 ms of a first failure; the real clock may tick between the two readings).
      if (untrusted.state._tag !== "Rejected") throw new Error("not rejected")
      expect(untrusted.state.nextAttemptAt - untrusted.state.since).toBeGreaterThan(29_000)
      expect(untrusted.state.nextAttemptAt - untrusted.state.since).toBeLessThanOrEqual(30_000)

      const keyless = yield* follow({ ca: [ca] })
      expect(state(keyless)).toBe("rejected HTTP 401")

      // The stream and the seed both carried the key; without it, the node saw none.
      expect(node.seen).toContain("/eth/v1/events key")
      expect(node.seen).toContain("/eth/v1/events no key")

      const shown = JSON.stringify([followed, untrusted, keyless]) +
        logs.lines.map((line) => JSON.stringify(line)).join("\n")
      expect(logs.lines.length).toBeGreaterThan(0)
      expect(shown).not.toContain(secret)
    }))
})

describe("request options from flags", () => {
  it("parses headers, keeps values redacted, names a bad entry without its value", () => {
    const headers = parseHeaders(`X-Api-Key=${secret}, Authorization=Bearer ${secret}`)
    expect(headers._tag).toBe("Right")
    if (headers._tag === "Right") {
      expect(Object.keys(headers.right)).toEqual(["X-Api-Key", "Authorization"])
      expect(Redacted.value(headers.right["Authorization"]!)).toBe(`Bearer ${secret}`)
      expect(JSON.stringify(headers.right)).not.toContain(secret)
      expect(String(headers.right["X-Api-Key"])).not.toContain(secret)
    }
    const problems = [`X-Api-Key${secret}`, `Bad Name=${secret}`, `=${secret}`, `X-Ok=a\r\nInjected: ${secret}`]
      .map((raw) => parseHeaders(raw))
    expect(problems.map((p) => p._tag)).toEqual(["Left", "Left", "Left", "Left"])
    expect(problems.map((p) => (p._tag === "Left" ? p.left : ""))).toEqual([
      `entry 0 has no "=" (NAME=VALUE)`,
      `header name "Bad Name" has characters a header name may not have`,
      `entry 0 has no header name before "="`,
      "the value of header X-Ok has characters a header value may not have"
    ])
    expect(isPem("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")).toBe(true)
    expect(isPem("not a certificate")).toBe(false)
  })
})
