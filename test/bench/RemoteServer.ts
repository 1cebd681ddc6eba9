/** The parent's handle on a benchmark server running in a child process (see serverMain.ts). */
import { type ChildProcess, fork } from "node:child_process"
import { fileURLToPath, pathToFileURL } from "node:url"

export type ServerCommand =
  | { readonly cmd: "listen" }
  | { readonly cmd: "greet"; readonly on: boolean }
  | { readonly cmd: "tick" }
  | { readonly cmd: "tickEvery"; readonly ms: number }
  | { readonly cmd: "stopTicks" }
  | { readonly cmd: "blast"; readonly node: string; readonly count: number }
  | { readonly cmd: "stats" }

/** Per-node counters of the server. */
export interface ServerStats {
  readonly requests: Record<string, number>
  readonly sent: Record<string, number>
  readonly open: Record<string, number>
  readonly slot: number
}

export class RemoteServer {
  private nextId = 0
  private readonly pending = new Map<number, (reply: { result?: unknown; error?: string }) => void>()
  port = 0

  private constructor(private readonly child: ChildProcess) {
    child.on("message", (reply: { id: number; result?: unknown; error?: string }) => {
      this.pending.get(reply.id)?.(reply)
      this.pending.delete(reply.id)
    })
  }

  static async start(): Promise<RemoteServer> {
    // The bench runs bundled (dist/test/bench/, see scripts/build.mjs) from its entry, scenario.js; this file's code
    // lands in a shared chunk (dist/test/bench/chunks/), so serverMain.js is found beside the entry, not this code.
    const child = fork(fileURLToPath(new URL("./serverMain.js", pathToFileURL(process.argv[1] ?? ""))), [], {
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    const server = new RemoteServer(child)
    server.port = await server.call<number>({ cmd: "listen" })
    return server
  }

  url(node: string): string {
    return `http://127.0.0.1:${this.port}/${node}`
  }

  call<A>(command: ServerCommand): Promise<A> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++
      this.pending.set(id, (reply) => reply.error === undefined ? resolve(reply.result as A) : reject(new Error(reply.error)))
      this.child.send({ id, command })
    })
  }

  stats(): Promise<ServerStats> {
    return this.call({ cmd: "stats" })
  }

  close(): void {
    this.child.disconnect()
  }
}
