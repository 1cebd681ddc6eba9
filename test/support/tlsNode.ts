/**
 * An HTTPS beacon node behind a private CA and an API key, for tests over real sockets. The CA and the node's
 * certificate are made at test time with `openssl` in a temporary folder: no private key is kept in the repository.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as Https from "node:https"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { headData } from "./chain.js"

export interface Certificates {
  readonly ca: string
  /** Where the CA's PEM file is, for `--beacon-nodes-tls-certs`. */
  readonly caPath: string
  readonly key: string
  readonly cert: string
  readonly remove: () => void
}

/** A CA and a certificate for 127.0.0.1 signed by it. */
export const makeCertificates = (): Certificates => {
  const dir = mkdtempSync(join(tmpdir(), "bhm-tls-"))
  const run = (...args: Array<string>) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" })
  run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test CA", "-keyout", "ca.key", "-out", "ca.pem")
  run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "node.key", "-out", "node.csr")
  writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1\n")
  run("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "node.pem")
  const read = (name: string) => readFileSync(join(dir, name), "utf8")
  return {
    ca: read("ca.pem"),
    caPath: join(dir, "ca.pem"),
    key: read("node.key"),
    cert: read("node.pem"),
    remove: () => rmSync(dir, { recursive: true, force: true })
  }
}

export interface HttpsNode {
  readonly url: string
  /** Each request as `path key` or `path no key`. */
  readonly seen: Array<string>
  readonly close: () => Promise<void>
}

/**
 * Streams head events (slot 7 at once, then one a second) to a request carrying `X-Api-Key: apiKey`; answers
 * 401 to any request without it.
 */
export const startHttpsNode = (certificates: Certificates, apiKey: string): Promise<HttpsNode> =>
  new Promise((resolve) => {
    const seen: Array<string> = []
    const timers = new Set<NodeJS.Timeout>()
    const server = Https.createServer({ key: certificates.key, cert: certificates.cert }, (request, response) => {
      const keyed = request.headers["x-api-key"] === apiKey
      seen.push(`${request.url?.split("?")[0]} ${keyed ? "key" : "no key"}`)
      if (!keyed) {
        response.writeHead(401, { "content-type": "application/json" })
        return response.end(JSON.stringify({ code: 401, message: "missing API key" }))
      }
      if (!request.url?.startsWith("/eth/v1/events")) {
        response.writeHead(404, { "content-type": "application/json" })
        return response.end("{}")
      }
      response.writeHead(200, { "content-type": "text/event-stream" })
      let slot = 7
      const send = () => response.write(`event: head\ndata: ${JSON.stringify(headData(slot++))}\n\n`)
      send()
      const timer = setInterval(send, 1_000)
      timers.add(timer)
      response.on("close", () => {
        clearInterval(timer)
        timers.delete(timer)
      })
    })
    // A failed handshake is the client's to report.
    server.on("tlsClientError", () => {})
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
        seen,
        close: () =>
          new Promise((done) => {
            for (const timer of timers) clearInterval(timer)
            server.closeAllConnections()
            server.close(() => done())
          })
      }))
  })
