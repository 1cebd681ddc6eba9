#!/usr/bin/env node
// The package's command (`bin`) and `npm start`: runs the TypeScript entrypoint through tsx, resolved from this
// package wherever the command is started (Node 20 cannot strip types itself).
import { register } from "tsx/esm/api"

register()
await import("./bin.ts")
