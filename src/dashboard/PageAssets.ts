/**
 * The page's static files, read once at start-up and served from memory: the
 * page itself (`page/` beside this module in the package's `src/dashboard/`)
 * and uPlot from the installed `uplot` package, so the page works offline.
 *
 * The files are found from the package's root, the first folder upwards from
 * this module that holds this package's `package.json`: that is the same
 * whether the module runs from `src/` (tsx), from `dist/` (tsc) or inside a
 * single bundled file, and `uplot` is resolved from there as a dependency.
 *
 * @since 0.1.0
 */
import { Context, Data, Effect, Layer } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

/**
 * One file as served.
 *
 * @since 0.1.0
 * @category models
 */
export interface Asset {
  readonly body: Uint8Array
  readonly contentType: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PageAssetsService {
  /** The page (`/`). */
  readonly page: Asset
  /** The files the page loads, by name under `/assets/`. */
  readonly assets: ReadonlyMap<string, Asset>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class PageAssets extends Context.Tag("beacon-head-monitor/PageAssets")<PageAssets, PageAssetsService>() {}

/**
 * A file of the page could not be found or read.
 *
 * @since 0.1.0
 * @category errors
 */
export class PageAssetsError extends Data.TaggedError("PageAssetsError")<{ readonly detail: string }> {
  override get message() {
    return `the dashboard's files cannot be read: ${this.detail}`
  }
}

const packageName = "beacon-head-monitor"

/** The first folder from `start` upwards with this package's `package.json`. */
const packageRoot = (start: string): string | undefined => {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json")
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, "utf8")) as { readonly name?: unknown }
      if (name === packageName) return dir
    }
    if (dirname(dir) === dir) return undefined
  }
}

const types = { html: "text/html; charset=utf-8", css: "text/css; charset=utf-8", js: "text/javascript; charset=utf-8" }

/** Served name → where the file is, relative to the package root or as a module of a dependency. */
const files = {
  page: { from: "page", path: "index.html", type: types.html },
  "dashboard.js": { from: "page", path: "dashboard.js", type: types.js },
  "dashboard.css": { from: "page", path: "dashboard.css", type: types.css },
  "uPlot.min.js": { from: "module", path: "uplot/dist/uPlot.iife.min.js", type: types.js },
  "uPlot.min.css": { from: "module", path: "uplot/dist/uPlot.min.css", type: types.css }
} as const

/**
 * Reads every file; fails naming the first one missing.
 *
 * @since 0.1.0
 * @category constructors
 */
export const load: Effect.Effect<PageAssetsService, PageAssetsError> = Effect.try({
  try: () => {
    const root = packageRoot(dirname(fileURLToPath(import.meta.url)))
    if (root === undefined) throw new Error(`no ${packageName} package.json above ${import.meta.url}`)
    const require = createRequire(join(root, "package.json"))
    const read = ({ from, path, type }: { readonly from: string; readonly path: string; readonly type: string }) => ({
      body: readFileSync(from === "page" ? join(root, "src", "dashboard", "page", path) : require.resolve(path)),
      contentType: type
    })
    const { page, ...assets } = files
    return {
      page: read(page),
      assets: new Map(Object.entries(assets).map(([name, file]) => [name, read(file)]))
    }
  },
  catch: (error) => new PageAssetsError({ detail: error instanceof Error ? error.message : String(error) })
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<PageAssets, PageAssetsError> = Layer.effect(PageAssets, load)
