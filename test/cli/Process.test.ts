/**
 * The command end to end, as child processes: the monitor against the
 * `simulate` subcommand, and with its embedded devnet: heads from every node,
 * a list update over the admin API, secrets kept out of every output, and
 * SIGTERM/SIGINT ending it with exit code 0. The built command is started
 * (dist/bin/bin.js, bundled by vitest's global setup); every wait on a process
 * allows a minute. Bad start-ups: one
 * line, non-zero exit, no stack trace (every bad value, flag or environment, is
 * in Flags.test.ts: the same message is printed the same way).
 */
import { describe, expect, it } from "@effect/vitest"
import { type ChildProcessByStdio, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Readable } from "node:stream"
import { fileURLToPath } from "node:url"
import { BeaconNodeServer } from "../../src/simulator/BeaconNodeServer.js"
import { headData } from "../support/chain.js"
import { makeCertificates, startHttpsNode } from "../support/tlsNode.js"

const root = fileURLToPath(new URL("../..", import.meta.url))

/** How long a wait for a process may take: a minute, as starting processes on a busy machine can. */
const startDeadline = 60_000

interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly at: number
}

class Cli {
  stdout = ""
  stderr = ""
  readonly exited: Promise<Exit>
  private readonly child: ChildProcessByStdio<null, Readable, Readable>

  constructor(args: ReadonlyArray<string>, env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, ["dist/bin/bin.js", ...args], {
      cwd: root,
      env: { PATH: process.env["PATH"] ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    this.child.stdout.setEncoding("utf8").on("data", (text: string) => (this.stdout += text))
    this.child.stderr.setEncoding("utf8").on("data", (text: string) => (this.stderr += text))
    // "close", not "exit": only then has all of stdout and stderr been read (on a busy machine "exit" comes first).
    this.exited = new Promise((resolve) =>
      this.child.on("close", (code, signal) => resolve({ code, signal, at: performance.now() }))
    )
  }

  /** Waits for a stdout line matching `pattern`; answers the match. */
  async line(pattern: RegExp, timeoutMs = startDeadline): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      for (const line of this.stdout.split("\n")) {
        const match = line.match(pattern)
        if (match) return match
      }
      await sleep(20)
    }
    throw new Error(`no line ${pattern} in:\n${this.stdout}\n${this.stderr}`)
  }

  /** Sends the signal; answers the exit and how long it took. */
  async stop(signal: NodeJS.Signals): Promise<Exit & { readonly ms: number }> {
    const sent = performance.now()
    this.child.kill(signal)
    const exit = await this.exited
    return { ...exit, ms: exit.at - sent }
  }

  kill(): void {
    this.child.kill("SIGKILL")
  }

  lastLine(): string {
    return this.stdout.trimEnd().split("\n").at(-1) ?? ""
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const until = async <A>(what: string, check: () => Promise<A | undefined>, timeoutMs = startDeadline): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await check().catch(() => undefined)
    if (value !== undefined) return value
    await sleep(50)
  }
  throw new Error(`timed out waiting for ${what}`)
}

interface HealthEntry {
  readonly index: number
  readonly url: string
  readonly head: { readonly slot: string } | null
}

/** The admin API, with the token the monitor wrote. */
const admin = (url: string, tokenFile: string) => {
  const headers = () => ({ authorization: `Bearer ${readFileSync(tokenFile, "utf8").trim()}` })
  return {
    health: async () => {
      const response = await fetch(`${url}/lighthouse/beacon/health`, { headers: headers() })
      return { text: await response.text(), status: response.status }
    },
    update: async (nodes: ReadonlyArray<string>) => {
      const response = await fetch(`${url}/lighthouse/beacon/update`, {
        method: "POST",
        headers: { ...headers(), "content-type": "application/json" },
        body: JSON.stringify({ beacon_nodes: nodes })
      })
      return { status: response.status, text: await response.text() }
    }
  }
}

/** Every node of the health answer has a head: each node's heads reach the monitor. */
const headsFromEvery = (text: string, count: number): Array<HealthEntry> | undefined => {
  const entries = (JSON.parse(text) as { data: Array<HealthEntry> }).data
  return entries.length === count && entries.every((e) => e.head !== null && Number(e.head.slot) >= 1)
    ? entries
    : undefined
}

const secrets = /password|SECRET/
/** An ANSI escape sequence (colour, style, cursor). */
const escape = /\x1b\[/

/** Lines a failed start printed, blank ones aside. */
const linesOf = (text: string) => text.split("\n").filter((line) => line.trim() !== "")

// Concurrent: most of the time is each child starting up.
describe.concurrent("beacon-head-monitor as a process", () => {
  it("follows the simulate subcommand's nodes, takes a list update over the admin API, stops on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bhm-"))
    const tokenFile = join(dir, "api-token.txt")
    const simulate = new Cli(["simulate", "--no-faults", "--seconds-per-slot", "1"])
    // And one node in this process, to see its stream closed by the monitor's shutdown.
    const local = new BeaconNodeServer()
    await local.listen()
    let slot = 0
    const beat = setInterval(() => local.send("head", headData(++slot)), 250)
    let monitor: Cli | undefined
    try {
      const [, list] = await simulate.line(/message="simulated devnet running".* urls=(\S+)/)
      const [u0, u1, u2] = list!.split(",") as [string, string, string]
      const secret = `http://user:password@127.0.0.1:${new URL(u1).port}/?apikey=SECRET`
      monitor = new Cli([
        "--beacon-nodes",
        `${u0},${secret}`,
        "--http-port",
        "0",
        "--metrics-port",
        "0",
        "--api-token-file",
        tokenFile
      ])
      const [, adminUrl] = await monitor.line(/message="admin API listening" url=(\S+)/)
      const [, metricsUrl] = await monitor.line(/message="metrics listening" url=(\S+)/)
      const api = admin(adminUrl!, tokenFile)
      // Every slot-sized timing follows the 1-s slots the nodes tell.
      await monitor.line(/message=monitoring(?=.* slotSeconds=1 )(?=.* idleTimeoutMs=3000 )(?=.* retryCapMs=500 )/)

      const before = await until("heads from both nodes", async () => headsFromEvery((await api.health()).text, 2))
      expect(before.map((e) => e.url)).toEqual([u0, `http://user:***@127.0.0.1:${new URL(u1).port}?apikey=***`])

      const updated = await api.update([u2, u0, secret, local.url])
      expect(updated.status).toBe(200)
      expect(JSON.parse(updated.text).data.new_beacon_nodes_list[0]).toBe(u2)
      const after = await until("heads from all four nodes", async () => headsFromEvery((await api.health()).text, 4))
      expect(after.map((e) => e.index)).toEqual([0, 1, 2, 3])
      await monitor.line(new RegExp(`message="stream open" node=${u2.replace(/[.:/]/g, "\\$&")} index=0`))
      await monitor.line(new RegExp(`message="new head" slot=\\d+ block=\\S+ first="\\[\\d\\] `))

      const metrics = await (await fetch(metricsUrl!)).text()
      expect(metrics).toContain(`beacon_head_monitor_node_connects_total{index="0",node="${u2}"} 1`)
      expect(metrics).toContain("beacon_head_monitor_candidate_list_updates_total 1")
      const health = await api.health()

      const exit = await monitor.stop("SIGTERM")
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null })
      // It stops on the signal, not at some deadline of its own; how fast is not a test's to judge on a busy machine.
      expect(exit.ms).toBeLessThan(startDeadline / 4)
      expect(monitor.lastLine()).toContain("stopped: every stream and server is closed")
      expect(local.requests).toBeGreaterThan(0)
      await until("the local stream closed", async () => (local.open === 0 ? true : undefined))
      expect(local.closed).toBe(local.requests)
      for (const output of [monitor.stdout, monitor.stderr, metrics, health.text, updated.text]) {
        expect(output).not.toMatch(secrets)
      }
      expect(monitor.stderr).toBe("")

      const simulated = await simulate.stop("SIGINT")
      expect({ code: simulated.code, signal: simulated.signal }).toEqual({ code: 0, signal: null })
      expect(simulate.lastLine()).toContain("stopped: the simulated devnet is closed")
    } finally {
      clearInterval(beat)
      await local.stop()
      simulate.kill()
      monitor?.kill()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 3 * startDeadline)

  it("without --beacon-nodes follows its embedded simulated devnet, says so, stops on SIGINT", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bhm-"))
    const tokenFile = join(dir, "api-token.txt")
    const monitor = new Cli(["--http-port", "0", "--metrics-port", "0", "--api-token-file", tokenFile])
    try {
      await monitor.line(/THIS IS A SIMULATION/)
      await monitor.line(/to follow real beacon nodes: --beacon-nodes .*BEACON_NODES/)
      const [, adminUrl] = await monitor.line(/message="admin API listening" url=(\S+)/)
      const api = admin(adminUrl!, tokenFile)
      await monitor.line(/message=monitoring(?=.* slotSeconds=2 )(?=.* idleTimeoutMs=6000 )(?=.* retryCapMs=1000 )/)
      await until("heads from the three simulated nodes", async () => headsFromEvery((await api.health()).text, 3))
      await monitor.line(/message="new head"/)

      const exit = await monitor.stop("SIGINT")
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null })
      // It stops on the signal, not at some deadline of its own; how fast is not a test's to judge on a busy machine.
      expect(exit.ms).toBeLessThan(startDeadline / 4)
      expect(monitor.lastLine()).toContain("stopped: every stream and server is closed")
    } finally {
      monitor.kill()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 3 * startDeadline)

  it("follows an HTTPS node of a private CA with an API key (--beacon-nodes-tls-certs, --beacon-node-headers), the key in no output", async () => {
    const apiKey = "SECRET-api-key-4f9a"
    const certificates = makeCertificates()
    const node = await startHttpsNode(certificates, apiKey)
    const dir = mkdtempSync(join(tmpdir(), "bhm-"))
    const tokenFile = join(dir, "api-token.txt")
    const monitor = new Cli([
      "--beacon-nodes", node.url,
      "--beacon-nodes-tls-certs", certificates.caPath,
      "--seconds-per-slot", "12", "--genesis-time", "0",
      "--http-port", "0", "--metrics-port", "0", "--api-token-file", tokenFile
    ], { BEACON_NODE_HEADERS: `X-Api-Key=${apiKey}`, LOG_LEVEL: "debug" })
    try {
      const [, adminUrl] = await monitor.line(/message="admin API listening" url=(\S+)/)
      const [, metricsUrl] = await monitor.line(/message=monitoring.* metrics=(\S+)/)
      await monitor.line(/message="new head" slot=\d+ /)
      const health = await until("the node's head in the health answer", async () => {
        const answer = await admin(adminUrl!, tokenFile).health()
        return headsFromEvery(answer.text, 1) && answer.text
      })
      const metrics = await (await fetch(metricsUrl!)).text()
      expect(node.seen).toContain("/eth/v1/events key")
      expect(node.seen).not.toContain("/eth/v1/events no key")
      const exit = await monitor.stop("SIGTERM")
      expect(exit.code).toBe(0)
      for (const output of [monitor.stdout, monitor.stderr, health, metrics]) expect(output).not.toMatch(secrets)
    } finally {
      monitor.kill()
      await node.close()
      certificates.remove()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 3 * startDeadline)

  it("simulate honours LOG_LEVEL as the monitor does: at warning, none of its info lines", async () => {
    // A port free a moment ago, to know when the node listens without reading its (silenced) log.
    const probe: Server = createServer()
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve))
    const port = (probe.address() as AddressInfo).port
    await new Promise((resolve) => probe.close(resolve))
    const simulate = new Cli(["simulate", "--nodes", "1", "--base-port", String(port), "--no-faults"], {
      LOG_LEVEL: "warning"
    })
    try {
      await until("the simulated node to answer", async () =>
        (await fetch(`http://127.0.0.1:${port}/eth/v1/node/health`)).ok || undefined)
      const exit = await simulate.stop("SIGINT")
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null })
      expect(simulate.stdout + simulate.stderr).toBe("")
    } finally {
      simulate.kill()
    }
  }, 3 * startDeadline)

  it("--help names each value's kind without filler, --version prints the version; off a terminal no escape codes", async () => {
    const run = async (args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
      const cli = new Cli(args, env)
      const exit = await cli.exited
      expect({ args, code: exit.code }).toEqual({ args, code: 0 })
      return cli.stdout
    }
    const [help, simulateHelp, version] = await Promise.all([run(["--help"]), run(["simulate", "--help"]), run(["--version"])])
    for (const text of [help, simulateHelp]) {
      expect(text).not.toContain("A user-defined piece of text")
      expect(text).not.toMatch(escape)
    }
    for (const shown of ["--beacon-nodes URL,URL", "--http-port PORT", "--retry-initial-delay-ms MS", "--idle-timeout-ms MS"]) {
      expect(help).toContain(shown)
    }
    expect(help).toContain("Comma-separated beacon node URLs")
    expect(version.trim()).toBe(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version)

    // Logs in the coloured format, asked for explicitly, and an error: still plain off a terminal.
    const simulate = new Cli(["simulate", "--nodes", "1", "--no-faults", "--log-format", "pretty"])
    try {
      await simulate.line(/simulated devnet running/)
      await simulate.stop("SIGINT")
      expect(simulate.stdout).toMatch(/INFO +simulated devnet running/)
      expect(simulate.stdout + simulate.stderr).not.toMatch(escape)
    } finally {
      simulate.kill()
    }
    const bad = new Cli(["--http-port", "abc"])
    await bad.exited
    expect(bad.stderr).toContain("is not an integer")
    expect(bad.stderr).not.toMatch(escape)
  }, 3 * startDeadline)

  it("a bad flag, value, URL or port fails at start-up in one line, exit code 1, no stack trace", async () => {
    const taken: Server = createServer()
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve))
    const port = (taken.address() as AddressInfo).port
    const dir = mkdtempSync(join(tmpdir(), "bhm-"))
    const tokenFile = ["--api-token-file", join(dir, "api-token.txt")]
    try {
      const cases: ReadonlyArray<readonly [args: ReadonlyArray<string>, env: Record<string, string>, line: RegExp]> = [
        [["--http-port", "abc"], {}, /^--http-port \(or HTTP_PORT\): "abc" is not an integer$/],
        [["--nope"], {}, /^beacon-head-monitor: unknown flag --nope \(see --help\)$/],
        [
          ["--beacon-nodes", "ftp://user:password@x/?apikey=SECRET"],
          {},
          /^beacon-head-monitor: --beacon-nodes \(or BEACON_NODES\): entry 0 \(.*\): scheme must be http or https, got ftp$/
        ],
        [
          ["--beacon-nodes", "http://127.0.0.1:1", "--seconds-per-slot", "12", "--genesis-time", "0", "--metrics-port", String(port), "--http-port", "0", ...tokenFile],
          {},
          new RegExp(`^beacon-head-monitor: --metrics-port \\(or METRICS_PORT\\): cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)$`)
        ],
        [
          ["simulate", "--base-port", String(port)],
          {},
          new RegExp(`^beacon-head-monitor: simulated beacon node cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE$`)
        ]
      ]
      await Promise.all(cases.map(async ([args, env, line]) => {
        const cli = new Cli(args, env)
        const exit = await cli.exited
        const lines = linesOf(cli.stderr)
        expect({ args, code: exit.code, lines }).toEqual({ args, code: 1, lines: [expect.stringMatching(line)] })
        expect(cli.stderr + cli.stdout).not.toMatch(secrets)
        expect(cli.stderr).not.toMatch(/\n\s+at /)
      }))
    } finally {
      taken.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 3 * startDeadline)
})
