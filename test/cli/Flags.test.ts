/**
 * Flag and environment parsing: defaults, flags, env fallbacks (the flag wins),
 * and a one-line error naming the flag for every bad value.
 */
import { CliConfig, HelpDoc, Options } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, LogLevel, Option, Redacted } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { unknownArgument } from "../../src/cli/Cli.js"
import { monitorFlags, simulateFlags } from "../../src/cli/Flags.js"
import { parseBeaconNodes } from "../../src/cli/MonitorCommand.js"

const parse = <A>(options: Options.Options<A>, args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Options.processCommandLine(options, args, CliConfig.defaultConfig).pipe(
    Effect.map(([, leftover, value]) => ({ leftover, value })),
    Effect.mapError((error) => HelpDoc.toAnsiText(error.error).trim()),
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    Effect.provide(NodeContext.layer),
    Effect.either
  )

const monitor = (args: ReadonlyArray<string>, env?: Record<string, string>) =>
  Effect.flatMap(parse(monitorFlags, args, env), (result) =>
    Either.match(result, {
      onLeft: (error) => Effect.dieMessage(`unexpected error: ${error}`),
      onRight: ({ value }) => Effect.succeed(value)
    }))

const failure = (args: ReadonlyArray<string>, env?: Record<string, string>) =>
  Effect.flatMap(parse(monitorFlags, args, env), (result) =>
    Either.match(result, {
      onLeft: Effect.succeed,
      onRight: () => Effect.dieMessage(`accepted ${args.join(" ")} ${JSON.stringify(env)}`)
    }))

describe("flags", () => {
  it.effect("defaults", () =>
    Effect.gen(function*() {
      const flags = yield* monitor([])
      expect(flags).toMatchObject({
        beaconNodes: Option.none(),
        httpAddress: "127.0.0.1",
        httpPort: 5062,
        apiTokenFile: Option.none(),
        metricsAddress: "127.0.0.1",
        metricsPort: 5064,
        logFormat: Option.none(),
        logLevel: Option.none(),
        secondsPerSlot: Option.none(),
        genesisTime: Option.none(),
        retryInitialDelayMs: Option.none(),
        retryFactor: Option.none(),
        retryMaxDelayMs: Option.none(),
        retryJitter: Option.none(),
        idleTimeoutMs: Option.none(),
        maxCandidates: Option.none()
      })
    }))

  it.effect("every flag", () =>
    Effect.gen(function*() {
      const flags = yield* monitor([
        "--beacon-nodes",
        "http://a:5052,http://b:5052",
        "--http-address",
        "0.0.0.0",
        "--http-port",
        "6000",
        "--api-token-file",
        "/tmp/token",
        "--metrics-address",
        "::1",
        "--metrics-port",
        "0",
        "--log-format",
        "JSON",
        "--seconds-per-slot",
        "6",
        "--genesis-time",
        "1606824023",
        "--retry-initial-delay-ms",
        "100",
        "--retry-factor",
        "1.5",
        "--retry-max-delay-ms",
        "3000",
        "--retry-jitter",
        "0",
        "--idle-timeout-ms",
        "18000",
        "--max-candidates",
        "8"
      ])
      expect(flags).toMatchObject({
        beaconNodes: Option.some("http://a:5052,http://b:5052"),
        httpAddress: "0.0.0.0",
        httpPort: 6000,
        apiTokenFile: Option.some("/tmp/token"),
        metricsAddress: "::1",
        metricsPort: 0,
        logFormat: Option.some("json"),
        secondsPerSlot: Option.some(6),
        genesisTime: Option.some(1606824023),
        retryInitialDelayMs: Option.some(100),
        retryFactor: Option.some(1.5),
        retryMaxDelayMs: Option.some(3000),
        retryJitter: Option.some(0),
        idleTimeoutMs: Option.some(18000),
        maxCandidates: Option.some(8)
      })
    }))

  it.effect("environment fallbacks, and the flag wins over the environment", () =>
    Effect.gen(function*() {
      const env = {
        BEACON_NODES: "http://env:5052",
        HTTP_ADDRESS: "10.0.0.1",
        HTTP_PORT: "7000",
        API_TOKEN_FILE: "/run/token",
        METRICS_ADDRESS: "10.0.0.2",
        METRICS_PORT: "7001",
        LOG_FORMAT: "logfmt",
        LOG_LEVEL: "debug",
        SECONDS_PER_SLOT: "12",
        GENESIS_TIME: "0",
        RETRY_INITIAL_DELAY_MS: "500",
        RETRY_FACTOR: "3",
        RETRY_MAX_DELAY_MS: "4000",
        RETRY_JITTER: "0.5",
        IDLE_TIMEOUT_MS: "30000",
        MAX_CANDIDATES: "16"
      }
      const flags = yield* monitor([], env)
      expect(flags).toMatchObject({
        beaconNodes: Option.some("http://env:5052"),
        httpAddress: "10.0.0.1",
        httpPort: 7000,
        apiTokenFile: Option.some("/run/token"),
        metricsAddress: "10.0.0.2",
        metricsPort: 7001,
        logFormat: Option.some("logfmt"),
        logLevel: Option.some(LogLevel.Debug),
        secondsPerSlot: Option.some(12),
        genesisTime: Option.some(0),
        retryInitialDelayMs: Option.some(500),
        retryFactor: Option.some(3),
        retryMaxDelayMs: Option.some(4000),
        retryJitter: Option.some(0.5),
        idleTimeoutMs: Option.some(30000),
        maxCandidates: Option.some(16)
      })
      const overridden = yield* monitor(["--http-port", "8000", "--beacon-nodes", "http://flag:5052"], env)
      expect(overridden.httpPort).toBe(8000)
      expect(overridden.beaconNodes).toEqual(Option.some("http://flag:5052"))
    }))

  const bad: ReadonlyArray<readonly [flag: string, value: string, message: string]> = [
    ["http-port", "abc", `"abc" is not an integer`],
    ["http-port", "", `"" is not an integer`],
    ["http-port", "-1", "-1 is outside 0..65535"],
    ["http-port", "65536", "65536 is outside 0..65535"],
    ["http-port", "80.5", `"80.5" is not an integer`],
    ["metrics-port", "x", `"x" is not an integer`],
    ["metrics-port", "99999", "99999 is outside 0..65535"],
    ["log-format", "xml", `"xml" is not one of pretty, logfmt, json`],
    ["seconds-per-slot", "0", "0 is outside 1..3600"],
    ["seconds-per-slot", "1.5", `"1.5" is not an integer`],
    ["genesis-time", "-5", "-5 is outside 0..1099511627776"],
    ["genesis-time", "soon", `"soon" is not an integer`],
    ["retry-initial-delay-ms", "0", "0 is outside 1..86400000"],
    ["retry-factor", "0.5", "0.5 is outside 1..100"],
    ["retry-factor", "NaN", `"NaN" is not a number`],
    ["retry-max-delay-ms", "1e99", "1e+99 is outside 1..86400000"],
    ["retry-jitter", "1", "1 is outside 0..0.99"],
    ["idle-timeout-ms", "-100", "-100 is outside 1..86400000"],
    ["max-candidates", "0", "0 is outside 1..10000"],
    ["beacon-nodes-tls-certs", "/nonexistent/ca.pem", "cannot read /nonexistent/ca.pem (ENOENT)"],
    ["beacon-nodes-tls-certs", "package.json", "package.json holds no PEM certificate"],
    ["beacon-node-headers", "X-Api-Key", `entry 0 has no "=" (NAME=VALUE)`],
    ["beacon-node-headers", "X-Ok=1,Bad Name=SECRET", `header name "Bad Name" has characters a header name may not have`],
    ["beacon-node-headers", "=SECRET", `entry 0 has no header name before "="`]
  ]

  it.effect("every bad value, as a flag or in the environment, is one line naming both", () =>
    Effect.gen(function*() {
      for (const [flag, value, message] of bad) {
        const env = flag.replace(/-/g, "_").toUpperCase()
        const expected = `--${flag} (or ${env}): ${message}`
        expect(yield* failure([`--${flag}`, value])).toBe(expected)
        expect(yield* failure([], { [env]: value })).toBe(expected)
      }
      expect(yield* failure([], { LOG_LEVEL: "loud" })).toBe(
        `--log-level (or LOG_LEVEL): "loud" is not one of ${
          ["all", "trace", "debug", "info", "warning", "error", "fatal", "none", "warn", "off"].join(", ")
        }`
      )
    }))

  it.effect("CA files are read, headers parsed with their values redacted", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "bhm-flags-"))
      const pem = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n"
      writeFileSync(join(dir, "a.pem"), pem)
      writeFileSync(join(dir, "b.pem"), pem.replace("test", "other"))
      try {
        const flags = yield* monitor([
          "--beacon-nodes-tls-certs",
          `${join(dir, "a.pem")},${join(dir, "b.pem")}`,
          "--beacon-node-headers",
          "X-Api-Key=SECRET1,Authorization=Bearer SECRET2"
        ])
        expect(flags.beaconNodesTlsCerts).toEqual(Option.some([pem, pem.replace("test", "other")]))
        const headers = Option.getOrThrow(flags.beaconNodeHeaders)
        expect(Object.entries(headers).map(([name, value]) => [name, Redacted.value(value)])).toEqual([
          ["X-Api-Key", "SECRET1"],
          ["Authorization", "Bearer SECRET2"]
        ])
        expect(JSON.stringify(flags)).not.toMatch(/SECRET/)
        const fromEnv = yield* monitor([], { BEACON_NODE_HEADERS: "X-Api-Key=SECRET3" })
        expect(Object.keys(Option.getOrThrow(fromEnv.beaconNodeHeaders))).toEqual(["X-Api-Key"])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }))

  it.effect("simulate: defaults and bad values", () =>
    Effect.gen(function*() {
      const ok = yield* parse(simulateFlags, ["--nodes", "5", "--base-port", "9000", "--no-faults"])
      expect(Either.map(ok, (r) => r.value)).toEqual(
        Either.right({
          nodes: 5,
          basePort: 9000,
          secondsPerSlot: 2,
          noFaults: true,
          logFormat: Option.none(),
          logLevel: Option.none()
        })
      )
      const fromEnv = yield* parse(simulateFlags, [], { LOG_LEVEL: "warn", LOG_FORMAT: "json" })
      expect(Either.map(fromEnv, (r) => r.value)).toMatchObject(
        Either.right({ logFormat: Option.some("json"), logLevel: Option.some(LogLevel.Warning) })
      )
      const defaults = yield* parse(simulateFlags, [])
      expect(Either.map(defaults, (r) => r.value)).toEqual(
        Either.right({
          nodes: 3,
          basePort: 0,
          secondsPerSlot: 2,
          noFaults: false,
          logFormat: Option.none(),
          logLevel: Option.none()
        })
      )
      expect(yield* Effect.flip(Effect.flatten(parse(simulateFlags, ["--nodes", "0"])))).toBe(
        "--nodes (or NODES): 0 is outside 1..64"
      )
    }))
})

describe("--beacon-nodes", () => {
  it.effect("normalises the list", () =>
    Effect.gen(function*() {
      expect(yield* parseBeaconNodes(" http://A:5052/ , https://b", 64)).toEqual(["http://a:5052", "https://b"])
    }))

  it.effect("names every wrong entry, without secrets", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        parseBeaconNodes("ftp://user:password@x/?apikey=SECRET,http://ok:5052,,http://ok:5052/", 64)
      )
      expect(error.message).toMatch(/^--beacon-nodes \(or BEACON_NODES\): entry 0 \(.*\): scheme must be http or https/)
      expect(error.message).toContain("entry 2 (): empty")
      expect(error.message).toContain("entry 3 (http://ok:5052): the same node as entry 1")
      expect(error.message).not.toMatch(/password|SECRET/)
      expect(error.message).not.toContain("\n")
      const tooMany = yield* Effect.flip(parseBeaconNodes("http://a,http://b,http://c", 2))
      expect(tooMany.message).toBe("--beacon-nodes (or BEACON_NODES): 3 nodes is more than the maximum of 2")
    }))
})

describe("unknown arguments", () => {
  it("names an unknown flag, never an argument's text", () => {
    expect(unknownArgument(["--http-port", "1", "--nope", "x"])).toBe("unknown flag --nope (see --help)")
    expect(unknownArgument(["--nope=http://user:password@x"])).toBe("unknown flag --nope (see --help)")
    expect(unknownArgument(["--http-port=5", "http://user:password@x"])).toBe(
      "unexpected argument 2: flags take the form --name value (see --help)"
    )
  })

  it("accepts every flag, built-ins, values that look like flags, and leaves the subcommand's to it", () => {
    expect(unknownArgument([
      "--beacon-nodes",
      "http://a",
      "--retry-factor",
      "-1",
      "--log-level",
      "debug",
      "--help",
      "--version",
      "--metrics-port=0"
    ])).toBeUndefined()
    expect(unknownArgument(["simulate", "--nodes", "2", "--whatever"])).toBeUndefined()
  })
})
