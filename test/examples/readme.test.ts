/**
 * README tells the truth about the library: every `ts` example in it
 * type-checks against the sources as a user's program importing
 * `beacon-head-monitor` (and `beacon-head-monitor/testing`), and every
 * `Module.name` it mentions of the package's modules exists (an export of the
 * module, or a member of the module's service or class: `CandidateList.update`).
 */
import { describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const root = fileURLToPath(new URL("../..", import.meta.url))
const readme = readFileSync(join(root, "README.md"), "utf8")

const examples = Array.from(readme.matchAll(/```ts\n([\s\S]*?)```/g), (match, i) => ({
  file: join(root, `README.example-${i}.ts`),
  code: match[1]!
}))
/** A user's view of both entries, to list what each namespace holds. */
const entries = {
  file: join(root, "README.entries.ts"),
  code: `import * as Main from "beacon-head-monitor"\nimport * as Testing from "beacon-head-monitor/testing"\nexport { Main, Testing }\n`
}
const virtual = new Map([...examples, entries].map(({ code, file }) => [file, code]))

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

const program = (() => {
  const compilerOptions = options()
  const host = ts.createCompilerHost(compilerOptions)
  const { fileExists, getSourceFile, readFile } = host
  host.fileExists = (file) => virtual.has(file) || fileExists(file)
  host.readFile = (file) => virtual.get(file) ?? readFile(file)
  host.getSourceFile = (file, language, ...rest) => {
    const code = virtual.get(file)
    return code === undefined ? getSourceFile(file, language, ...rest) : ts.createSourceFile(file, code, language, true)
  }
  return ts.createProgram([...virtual.keys()], compilerOptions, host)
})

const format = (diagnostics: ReadonlyArray<ts.Diagnostic>) =>
  diagnostics.map((d) => {
    const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined
    return `${d.file?.fileName.replace(root, "") ?? ""}${at ? `:${at.line + 1}` : ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`
  })

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

  it("names only what exists", () => {
    const checker = built.getTypeChecker()
    const source = built.getSourceFile(entries.file)!
    expect(format(built.getSemanticDiagnostics(source))).toEqual([])
    /** Each namespace of both entries, with the names it offers. */
    const offered = new Map<string, Set<string>>()
    for (const statement of source.statements) {
      if (!ts.isImportDeclaration(statement)) continue
      const entry = checker.getSymbolAtLocation(statement.moduleSpecifier)!
      for (const namespace of checker.getExportsOfModule(entry)) {
        const module = checker.getAliasedSymbol(namespace)
        const names = new Set<string>()
        for (const exported of checker.getExportsOfModule(module)) {
          names.add(exported.name)
          if (exported.name !== namespace.name) continue
          // The module's own service or class: its members (`CandidateList.update`, `BeaconStreamError.reason`).
          const instance = checker.getDeclaredTypeOfSymbol(exported)
          // A service tag's instance type holds the service as `Type`.
          const service = instance.getProperty("Type")
          const members = service === undefined ? instance : checker.getTypeOfSymbol(service)
          for (const member of checker.getPropertiesOfType(members)) names.add(member.name)
        }
        offered.set(namespace.name, names)
      }
    }
    expect(offered.get("HeadMonitor")?.has("layerNode")).toBe(true)
    // In inline code, file names aside (`node/BeaconNode.ts`); the examples are checked above.
    const spans = Array.from(readme.replace(/```[\s\S]*?```/g, "").matchAll(/`([^`\n]+)`/g), (m) => m[1]!)
    const mentioned = new Set(
      spans.filter((span) => !/\.(ts|js|json)\b/.test(span)).flatMap((span) =>
        Array.from(span.matchAll(/\b([A-Z][A-Za-z]+)\.([A-Za-z]\w*)/g), (m) => `${m[1]}.${m[2]}`)
      )
    )
    expect(mentioned.size).toBeGreaterThan(20)
    const missing = [...mentioned].filter((name) => {
      const [namespace, member] = name.split(".") as [string, string]
      const names = offered.get(namespace)
      return names !== undefined && !names.has(member)
    })
    expect(missing).toEqual([])
  }, 180_000)
})
