/**
 * The live page in a real browser: the built command (dist/bin/bin.js) runs its simulated devnet, a
 * headless Chromium (shipped inside the `@sparticuz/chromium` package, driven
 * by `playwright-core`) opens the page, is refused a wrong token, enters the
 * right one, and watches every panel come alive; one simulated node is stopped
 * and its lane must change state within a slot, then come back. No console
 * error on the way; a screenshot is saved (to `DASHBOARD_SCREENSHOT` if set,
 * e.g. `docs/dashboard.png` for the README, else a temporary file).
 */
import chromium from "@sparticuz/chromium"
import { describe, expect, it } from "@effect/vitest"
import { type ChildProcessByStdio, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import type { Readable } from "node:stream"
import { fileURLToPath } from "node:url"
import { type Browser, chromium as playwright, type Page } from "playwright-core"

const root = fileURLToPath(new URL("../..", import.meta.url))

/** Readiness deadlines: generous, the machine is busy. */
const startMs = 60_000
const aliveMs = 60_000

/** The monitor as a child process, with its output kept. */
class Command {
  output = ""
  readonly exited: Promise<{ readonly code: number | null; readonly at: number }>
  private readonly child: ChildProcessByStdio<null, Readable, Readable>

  constructor(args: ReadonlyArray<string>) {
    this.child = spawn(process.execPath, ["dist/bin/bin.js", ...args], {
      cwd: root,
      env: { PATH: process.env["PATH"] ?? "", LOG_FORMAT: "logfmt" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    for (const stream of [this.child.stdout, this.child.stderr]) {
      stream.setEncoding("utf8").on("data", (text: string) => (this.output += text))
    }
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve({ code, at: performance.now() })))
  }

  async line(pattern: RegExp): Promise<RegExpMatchArray> {
    const deadline = Date.now() + startMs
    while (Date.now() < deadline) {
      const match = this.output.match(pattern)
      if (match) return match
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`no line ${pattern} in:\n${this.output}`)
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal)
  }
}

/**
 * Chromium from the npm package, decompressed into a temporary folder of our own (the package decompresses into
 * the system's temporary folder, which other runs on the machine may be filling at the same moment).
 */
const launch = async (dir: string): Promise<Browser> => {
  const previous = process.env["TMPDIR"]
  process.env["TMPDIR"] = dir
  try {
    const executablePath = await chromium.executablePath()
    // A fresh profile in a temporary folder of Playwright's; a locale uPlot's number format accepts (with LANG=C
    // Chromium reports "en-US@posix", which Intl refuses).
    return await playwright.launch({
      executablePath,
      headless: true,
      env: { ...process.env, LANG: "en_US.UTF-8" },
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic"
      ]
    })
  } finally {
    if (previous === undefined) delete process.env["TMPDIR"]
    else process.env["TMPDIR"] = previous
  }
}

/** Problems the page reported: console errors and uncaught exceptions. */
const watch = (page: Page): Array<string> => {
  const problems: Array<string> = []
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`)
  })
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`))
  return problems
}


/**
 * Polls `check` from here until it answers a value (the page's CSP allows no `eval`, which `waitForFunction`
 * needs).
 */
const poll = async <A>(what: string, check: () => Promise<A | undefined | false>): Promise<A> => {
  const deadline = Date.now() + aliveMs
  while (Date.now() < deadline) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Node `index`'s lane row. */
const lane = (index: number) => `#lanes tbody tr[data-index="${index}"]`

describe("the live page in a real browser", () => {
  it("comes alive on the simulated devnet, follows a node that stops and comes back, without an error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bhm-page-"))
    const tokenFile = join(dir, "api-token.txt")
    const command = new Command(["--http-port", "0", "--metrics-port", "0", "--api-token-file", tokenFile])
    let browser: Browser | undefined
    try {
      const [, pageUrl] = await command.line(/message="live page" url=(\S+)/)
      const [, simulated] = await command.line(/THIS IS A SIMULATION.* simulated=(\S+)/)
      const nodes = simulated!.split(",")
      expect(nodes).toHaveLength(3)
      const token = readFileSync(tokenFile, "utf8").trim()
      browser = await launch(dir)

      // A wrong token: the page says so and asks again.
      const refused = await browser.newPage()
      await refused.goto(pageUrl!)
      await refused.fill("#token", "not-the-token")
      await refused.click("#login button[type=submit]")
      await refused.waitForSelector("#status[data-status='refused']", { timeout: aliveMs })
      expect(await refused.isVisible("#login")).toBe(true)
      expect(await refused.textContent("#login-message")).toContain("Wrong token")
      await refused.close()

      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
      const problems = watch(page)
      await page.goto(pageUrl!)
      expect(await page.content()).not.toContain(token)
      await page.fill("#token", token)
      await page.click("#login button[type=submit]")
      await page.waitForSelector("#status[data-status='live']", { timeout: aliveMs })
      expect(await page.isVisible("#login")).toBe(false)
      expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length)).toBe(1)

      // Every node's lane shows a head; the chart has points for several slots; the other panels are filled.
      await poll("a head in every lane", async () => (await page.locator("#lanes tbody tr[data-head]").count()) === 3)
      await poll("points for several slots", async () => Number(await page.getAttribute("#arrivals", "data-slots")) >= 4)
      expect(await page.locator("#arrivals canvas").count()).toBeGreaterThan(0)
      expect(await page.locator("#delays tbody tr").count()).toBe(3)
      expect(await page.locator("#first tbody tr").count()).toBe(3)
      expect(await page.textContent("#first tbody")).toMatch(/\d+% \(\d+\)/)
      expect(await page.textContent("#consensus")).toMatch(/^Majority: slot \d+/)
      expect(await page.locator("#agreement tbody tr").count()).toBe(3)
      expect(await page.locator("#events li[data-kind='list']").count()).toBeGreaterThanOrEqual(1)
      expect(await page.textContent("#lanes tbody")).not.toContain(token)

      // Node 0 stops (its restart control on the simulated node): its lane leaves `open` within a slot, then returns.
      await page.waitForSelector(`${lane(0)}[data-state="open"]`, { timeout: aliveMs })
      const slotMs = 2_000
      const stoppedAt = performance.now()
      const stop = await fetch(`${nodes[0]}/simulator/restart?down_ms=4000`, { method: "POST" })
      expect(stop.status).toBe(202)
      await page.waitForSelector(`${lane(0)}:not([data-state="open"])`, { timeout: aliveMs })
      expect(performance.now() - stoppedAt).toBeLessThan(slotMs)
      expect(["backoff", "connecting", "stalled"]).toContain(await page.getAttribute(lane(0), "data-state"))
      await page.waitForSelector(`${lane(0)}[data-state="open"][data-head]`, { timeout: aliveMs })
      expect(await page.textContent(lane(0))).toMatch(/(reset|refused|ended) \(/)

      await page.screenshot({ path: resolve(root, process.env["DASHBOARD_SCREENSHOT"] ?? join(dir, "dashboard.png")) })
      expect(problems).toEqual([])

      // The command stops at once with the page still open.
      const sent = performance.now()
      command.signal("SIGTERM")
      const exit = await command.exited
      expect(exit.code).toBe(0)
      expect(exit.at - sent).toBeLessThan(2_000)
    } finally {
      await browser?.close()
      command.signal("SIGKILL")
      rmSync(dir, { recursive: true, force: true })
    }
  }, 240_000)
})
