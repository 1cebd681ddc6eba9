/**
 * Every name README shows as `Module.name`, where `Module` is a namespace of the
 * package's entries (`src/index.ts`, `src/testing.ts`) or a module of `src/` by
 * its file name, must be an export of that module (value or type), or a member of the module's namesake (README's
 * short form `CandidateList.update` for the `CandidateList` service's
 * `update`): a renamed or removed export that README still shows fails here.
 * The compiler's own view of the modules decides. File names (`HeadMonitor.ts`)
 * are not names.
 */
import { describe, expect, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const root = fileURLToPath(new URL("../..", import.meta.url))
const entries = ["src/index.ts", "src/testing.ts"].map((path) => `${root}${path}`)
const modules = readdirSync(`${root}src`, { recursive: true, encoding: "utf8" })
  .filter((path) => path.endsWith(".ts"))
  .map((path) => `${root}src/${path}`)

/** Each namespace the entries export and each module by file name, with its exports and its namesake's members. */
const namespaces = (): Map<string, Set<string>> => {
  const program = ts.createProgram(modules, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    noEmit: true
  })
  const checker = program.getTypeChecker()
  const out = new Map<string, Set<string>>()
  const add = (name: string, module: ts.Symbol) => {
    const names = out.get(name) ?? new Set<string>()
    for (const symbol of checker.getExportsOfModule(module)) {
      names.add(symbol.name)
      if (symbol.name !== name) continue
      // The namesake: a class's instance members, and for a `Context.Tag(key)<Self, Service>()` its service's
      // members (the instances carry the service as `Type`).
      const type = checker.getDeclaredTypeOfSymbol(symbol)
      const service = type.getProperty("Type")
      const members = [...type.getProperties(), ...(service ? checker.getTypeOfSymbol(service).getProperties() : [])]
      for (const member of members) names.add(member.name)
    }
    out.set(name, names)
  }
  for (const path of modules) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(path)!)
    if (module !== undefined) add(path.slice(path.lastIndexOf("/") + 1, -3), module)
  }
  for (const entry of entries) {
    for (const exported of checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entry)!)!)) {
      const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
      if (target.flags & ts.SymbolFlags.ValueModule) add(exported.name, target)
    }
  }
  return out
}

const fileExtensions = new Set(["ts", "js", "test", "json", "md"])

describe("README", () => {
  it("names only exports that exist", () => {
    const modules = namespaces()
    expect(modules.get("HeadMonitor")?.has("layerNode")).toBe(true)
    const readme = readFileSync(`${root}README.md`, "utf8")
    const shown = new Set<string>()
    for (const [, namespace, name] of readme.matchAll(/\b([A-Z][A-Za-z]*)\.([A-Za-z_$][\w$]*)/g)) {
      if (modules.has(namespace!) && !fileExtensions.has(name!)) shown.add(`${namespace}.${name}`)
    }
    expect(shown.size).toBeGreaterThan(20)
    const missing = [...shown].filter((qualified) => {
      const [namespace, name] = qualified.split(".") as [string, string]
      return !modules.get(namespace)!.has(name)
    })
    expect(missing).toEqual([])
  }, 60_000)
})
