import { describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import * as Main from "../src/index.js"
import * as Testing from "../src/testing.js"

const src = new URL("../src/", import.meta.url)

/** The modules an entry re-exports, by path relative to `src/`. */
const modulesOf = (entry: string): ReadonlyArray<string> =>
  Array.from(readFileSync(new URL(entry, src), "utf8").matchAll(/^export \* as \w+ from "\.\/(.+)\.js"/gm), (m) => `${m[1]}.ts`)

/** Doc comments marked `@internal` that document an export (or the whole module, when first in the file). */
const internalExports = (module: string): ReadonlyArray<string> => {
  const text = readFileSync(new URL(module, src), "utf8")
  const found: Array<string> = []
  for (const match of text.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*(export [^\n]*|import[^\n]*)?/g)) {
    if (!/@internal\b/.test(match[1]!)) continue
    if (match.index === 0) found.push(`${module} (the module)`)
    else if (match[2]?.startsWith("export")) found.push(`${module}: ${match[2]}`)
  }
  return found
}

describe("the package's entries", () => {
  it("the main entry reaches nothing marked @internal", () => {
    const modules = modulesOf("index.ts")
    expect(modules.length).toBeGreaterThan(20)
    expect(modules.flatMap(internalExports)).toEqual([])
  })

  it("the simulator is in the testing entry, not the main one", () => {
    for (const name of ["BeaconNodeServer", "Devnet", "SimulatedChain"]) {
      expect(Main).not.toHaveProperty(name)
      expect(Testing).toHaveProperty(name)
    }
    expect(Object.keys(Main)).not.toContain("SseDecoder")
    expect(Object.keys(Main)).not.toContain("FirstSeen")
    expect(Main.BeaconEvent).not.toHaveProperty("decodeHeadFast")
    expect(Main.BeaconStreamError).not.toHaveProperty("errorCode")
  })

  it("the check finds an @internal export where there is one", () => {
    expect(internalExports("stream/SseDecoder.ts")).toEqual(["stream/SseDecoder.ts (the module)"])
    expect(internalExports("monitor/NodeFollower.ts").length).toBeGreaterThan(0)
  })
})
