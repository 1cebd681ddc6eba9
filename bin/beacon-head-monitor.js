#!/usr/bin/env node
// The package's command: runs the TypeScript entrypoint through tsx (Node 20 cannot strip types itself).
import { register } from "tsx/esm/api"

register()
await import("../src/bin.ts")
