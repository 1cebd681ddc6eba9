import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, HashMap, Layer, Logger, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as ArrivalStats from "../../src/arrivals/ArrivalStats.js"
import * as SlotClock from "../../src/health/SlotClock.js"
import * as AdminApi from "../../src/admin/AdminApi.js"
import * as ApiToken from "../../src/admin/ApiToken.js"
import * as HeadMonitor from "../../src/monitor/HeadMonitor.js"
import * as BeaconNodeServer from "../../src/simulator/BeaconNodeServer.js"

/** A fresh directory, removed with the scope. */
const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "api-token-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

interface Logged {
  readonly message: unknown
  readonly annotations: Record<string, unknown>
}

/** Runs `effect` with a logger that records every line. */
const capturingLogs = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const lines: Array<Logged> = []
    const logger = Logger.make<unknown, void>(({ annotations, message }) => {
      lines.push({ message, annotations: Object.fromEntries(HashMap.toEntries(annotations)) })
    })
    const result = yield* effect.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
    return [result, lines] as const
  })

const make = (options: ApiToken.ApiTokenOptions) => ApiToken.make(options).pipe(Effect.provide(NodeFileSystem.layer))

describe("ApiToken", () => {
  it("accepts exactly `Bearer <token>`", () => {
    const token = ApiToken.fromSecret(Redacted.make("abc123"))
    expect(token.authorizes("Bearer abc123")).toBe(true)
    expect(token.authorizes("bearer abc123")).toBe(true)
    expect(token.authorizes(undefined)).toBe(false)
    expect(token.authorizes("")).toBe(false)
    expect(token.authorizes("Bearer ")).toBe(false)
    expect(token.authorizes("Bearer abc124")).toBe(false)
    expect(token.authorizes("Bearer abc1234")).toBe(false)
    expect(token.authorizes("Bearer abc")).toBe(false)
    expect(token.authorizes("Basic abc123")).toBe(false)
    expect(token.authorizes("abc123")).toBe(false)
    expect(token.authorizes("Bearer abc123 extra")).toBe(false)
  })

  it.scoped("without a token, generates one into a file readable by its owner only and logs the path", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = Path.join(dir, "api-token.txt")
      const [token, logs] = yield* capturingLogs(make({ tokenFile: file }))
      const stat = Fs.statSync(file)
      expect(stat.mode & 0o777).toBe(0o600)
      const written = Fs.readFileSync(file, "utf8").trim()
      expect(written).toMatch(/^[0-9a-f]{64}$/)
      expect(token.authorizes(`Bearer ${written}`)).toBe(true)
      expect(logs.map((l) => l.annotations["tokenFile"])).toEqual([file])
      // The token itself is never logged.
      expect(JSON.stringify(logs)).not.toContain(written)
    }))

  it.scoped("reuses the token of an existing file", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = Path.join(dir, "token")
      Fs.writeFileSync(file, "kept-token\n", { mode: 0o600 })
      const token = yield* make({ tokenFile: file })
      expect(token.authorizes("Bearer kept-token")).toBe(true)
      expect(Fs.readFileSync(file, "utf8")).toBe("kept-token\n")
    }))

  it.scoped("refuses a token file others can read, and an empty one", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const open = Path.join(dir, "open")
      Fs.writeFileSync(open, "token\n")
      Fs.chmodSync(open, 0o644)
      const error = yield* Effect.flip(make({ tokenFile: open }))
      expect(error._tag).toBe("ApiTokenError")
      expect(error.message).toContain("readable by others (mode 644)")
      const empty = Path.join(dir, "empty")
      Fs.writeFileSync(empty, " \n", { mode: 0o600 })
      expect((yield* Effect.flip(make({ tokenFile: empty }))).reason).toBe("empty")
    }))

  it.scoped("a configured token wins: no file is read or written", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = Path.join(dir, "api-token.txt")
      const token = yield* make({ token: Redacted.make("configured"), tokenFile: file })
      expect(token.authorizes("Bearer configured")).toBe(true)
      expect(Fs.existsSync(file)).toBe(false)
      expect((yield* Effect.flip(make({ token: "has blank" }))).reason).toContain("blanks")
      expect((yield* Effect.flip(make({ token: "" }))).reason).toContain("empty")
    }))

  it.scopedLive("the admin API uses the generated token", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const node = yield* BeaconNodeServer.make()
      const tokenFile = Path.join(dir, "api-token.txt")
      const layer = AdminApi.layer({ port: 0, tokenFile }).pipe(
        Layer.provideMerge(ArrivalStats.layer),
        Layer.provideMerge(HeadMonitor.layerNode([node.url])),
        Layer.provideMerge(SlotClock.layer({ genesisTime: 0, slotDuration: "12 seconds" }))
      )
      yield* Effect.gen(function*() {
        const { url } = yield* AdminApi.AdminApi
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
        const token = Fs.readFileSync(tokenFile, "utf8").trim()
        const get = (authorization: string) =>
          Effect.promise(() =>
            fetch(`${url}${AdminApi.healthPath}`, { headers: { authorization } }).then((r) => r.status)
          )
        expect(yield* get(`Bearer ${token}`)).toBe(200)
        expect(yield* get(`Bearer ${token.slice(1)}`)).toBe(401)
      }).pipe(Effect.provide(layer))
    }))
})
