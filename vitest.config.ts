import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The benchmarks and the long fault suite have their own npm scripts.
    exclude: ["test/bench/**", "node_modules/**", "dist/**"],
    // The process tests start the built command: build it from the sources under test first.
    globalSetup: ["test/support/build.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
