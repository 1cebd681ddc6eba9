#!/usr/bin/env node
// The build (`npm run build`, run by `prepare` on `npm ci`/`npm install`): plain JavaScript so that it runs on a
// fresh clone with nothing built yet.
//
//   node scripts/build.mjs [bin] [lib] [faults] [bench]     (no argument: bin and lib)
//
// - bin:  the command, one esbuild bundle (dist/bin/), its commands split off so that `--help` loads neither;
// - lib:  the library entries `.` and `./testing`, `tsc` output with `.d.ts` types (dist/lib/);
// - faults, bench: what the fault suite's process test and the benchmark start (dist/test/), bundled as the command.
// README ("Build") says why: a bundle starts in a fraction of the time and memory of per-file modules.
import { execFileSync } from "node:child_process"
import { rmSync } from "node:fs"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"

const root = fileURLToPath(new URL("..", import.meta.url))
const require = createRequire(import.meta.url)

/** Options of every bundle: ESM for Node 20; dependencies written in CommonJS get a `require` to call. */
const bundle = (options) =>
  build({
    absWorkingDir: root,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    minifySyntax: true,
    minifyWhitespace: true,
    sourcemap: "linked",
    chunkNames: "chunks/[name]-[hash]",
    banner: { js: "import { createRequire as __createRequire } from \"node:module\"; const require = __createRequire(import.meta.url);" },
    logLevel: "warning",
    ...options
  })

const targets = {
  bin: () => {
    rmSync(`${root}/dist/bin`, { recursive: true, force: true })
    return bundle({ entryPoints: ["src/bin.ts"], outdir: "dist/bin" })
  },
  lib: () => {
    rmSync(`${root}/dist/lib`, { recursive: true, force: true })
    execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
      cwd: root,
      stdio: "inherit"
    })
  },
  faults: () => {
    rmSync(`${root}/dist/test/faults`, { recursive: true, force: true })
    return bundle({ entryPoints: ["test/faults/monitorProcess.ts"], outdir: "dist/test/faults" })
  },
  bench: () => {
    rmSync(`${root}/dist/test/bench`, { recursive: true, force: true })
    return bundle({
      entryPoints: ["test/bench/run.ts", "test/bench/scenario.ts", "test/bench/serverMain.ts"],
      outdir: "dist/test/bench"
    })
  }
}

const wanted = process.argv.length > 2 ? process.argv.slice(2) : ["bin", "lib"]
for (const name of wanted) {
  const target = targets[name]
  if (target === undefined) throw new Error(`unknown build target ${name} (${Object.keys(targets).join(", ")})`)
  await target()
}
