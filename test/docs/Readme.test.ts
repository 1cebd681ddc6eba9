/**
 * README tells the truth about the library, by the compiler's own view of the
 * sources (one program for both checks: building it is most of the cost):
 * - every `ts` example type-checks as a user's program importing
 *   `beacon-head-monitor` (and `beacon-head-monitor/testing`);
 * - every name README shows as `Module.name`, where `Module` is a namespace of
 *   the package's entries (`src/index.ts`, `src/testing.ts`) or a module of
 *   `src/` by its file name, is an export of that module (value or type), or a
 *   member of the module's namesake (README's short form `CandidateList.update`
 *   for the `CandidateList` service's `update`): a renamed or removed export
 *   that README still shows fails here. File names (`HeadMonitor.ts`) are not
 *   names.
 */
import { describe, expect, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const root = fileURLToPath(new URL("../..", import.meta.url))
const readme = readFileSync(join(root, "README.md"), "utf8")
const entries = ["src/index.ts", "src/testing.ts"].map((path) => join(root, path))
const modules = readdirSync(join(root, "src"), { recursive: true, encoding: "utf8" })
  .filter((path) => path.endsWith(".ts"))
  .map((path) => join(root, "src", path))

const examples = Array.from(readme.matchAll(/```ts\n([\s\S]*?)```/g), (match, i) => ({
  file: join(root, `README.example-${i}.ts`),
  code: match[1]!
}))
const virtual = new Map(examples.map(({ code, file }) => [file, code]))

/** The project's compiler options, with the package's own name resolving to its sources. */
const options = (): ts.CompilerOptions => {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.json"), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"))
    }
  })!
  return {
    ...config.options,
    noEmit: true,
    // An example may define what it does not use itself (a layer to mount, a program to run).
    noUnusedLocals: false,
    paths: { "beacon-head-monitor": ["./src/index.ts"], "beacon-head-monitor/testing": ["./src/testing.ts"] },
    baseUrl: root
  }
}

/** The sources and README's examples (held in memory) in one program. */
const program = (): ts.Program => {
  const compilerOptions = options()
  const host = ts.createCompilerHost(compilerOptions)
  const { fileExists, getSourceFile, readFile } = host
  host.fileExists = (file) => virtual.has(file) || fileExists(file)
  host.readFile = (file) => virtual.get(file) ?? readFile(file)
  host.getSourceFile = (file, language, ...rest) => {
    const code = virtual.get(file)
    return code === undefined ? getSourceFile(file, language, ...rest) : ts.createSourceFile(file, code, language, true)
  }
  return ts.createProgram([...modules, ...virtual.keys()], compilerOptions, host)
}

const format = (diagnostics: ReadonlyArray<ts.Diagnostic>) =>
  diagnostics.map((d) => {
    const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined
    return `${d.file?.fileName.replace(root, "") ?? ""}${at ? `:${at.line + 1}` : ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`
  })

/** Each namespace the entries export and each module by file name, with its exports and its namesake's members. */
const namespaces = (built: ts.Program): Map<string, Set<string>> => {
  const checker = built.getTypeChecker()
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
    const module = checker.getSymbolAtLocation(built.getSourceFile(path)!)
    if (module !== undefined) add(path.slice(path.lastIndexOf("/") + 1, -3), module)
  }
  for (const entry of entries) {
    for (const exported of checker.getExportsOfModule(checker.getSymbolAtLocation(built.getSourceFile(entry)!)!)) {
      const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
      if (target.flags & ts.SymbolFlags.ValueModule) add(exported.name, target)
    }
  }
  return out
}

const fileExtensions = new Set(["ts", "js", "test", "json", "md"])

describe("README", () => {
  const built = program()

  it("has its library examples, and each type-checks", () => {
    expect(examples.length).toBeGreaterThanOrEqual(3)
    const diagnostics = examples.flatMap(({ file }) => {
      const source = built.getSourceFile(file)!
      return [...built.getSyntacticDiagnostics(source), ...built.getSemanticDiagnostics(source)]
    })
    expect(format(diagnostics)).toEqual([])
  }, 180_000)

  it("names only exports that exist", () => {
    const offered = namespaces(built)
    expect(offered.get("HeadMonitor")?.has("layerNode")).toBe(true)
    const shown = new Set<string>()
    for (const [, namespace, name] of readme.matchAll(/\b([A-Z][A-Za-z]*)\.([A-Za-z_$][\w$]*)/g)) {
      if (offered.has(namespace!) && !fileExtensions.has(name!)) shown.add(`${namespace}.${name}`)
    }
    expect(shown.size).toBeGreaterThan(20)
    const missing = [...shown].filter((qualified) => {
      const [namespace, name] = qualified.split(".") as [string, string]
      return !offered.get(namespace)!.has(name)
    })
    expect(missing).toEqual([])
  }, 180_000)
})
