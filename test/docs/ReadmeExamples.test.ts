/**
 * README's library examples compile: every `ts` block in it type-checks against
 * the sources as a user's program importing `beacon-head-monitor` (and
 * `beacon-head-monitor/testing`). The names README mentions in its prose are
 * ReadmeNames.test.ts's to check.
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
  it("has its library examples, and each type-checks", () => {
    expect(examples.length).toBeGreaterThanOrEqual(3)
    const built = program()
    const diagnostics = examples.flatMap(({ file }) => {
      const source = built.getSourceFile(file)!
      return [...built.getSyntacticDiagnostics(source), ...built.getSemanticDiagnostics(source)]
    })
    expect(format(diagnostics)).toEqual([])
  }, 180_000)
})
