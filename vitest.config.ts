import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The benchmarks and the long fault suite have their own npm scripts.
    exclude: ["test/bench/**", "node_modules/**", "dist/**"],
    // The process tests start the built command: build it from the sources under test first.
    globalSetup: ["test/support/build.ts"],
    // Test files share their worker's modules instead of loading Effect afresh for each file: a third off the
    // suite's time on a 2-core machine. No test relies on module state of its own (each builds its layers).
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
