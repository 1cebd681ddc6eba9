/**
 * A {@link MultiNodeServer} in its own process, driven over IPC by
 * {@link RemoteServer}: the client's CPU and memory are then measured alone.
 */
import { MultiNodeServer } from "./MultiNodeServer.js"
import type { ServerCommand, ServerStats } from "./RemoteServer.js"

const server = new MultiNodeServer()
let ticker: NodeJS.Timeout | undefined

const tick = () => {
  server.slot++
  for (const node of server.streams.keys()) server.send(node, server.slot)
}

const stats = (): ServerStats => ({
  requests: Object.fromEntries(server.requests),
  sent: Object.fromEntries(server.sent),
  open: Object.fromEntries([...server.streams].map(([node, set]) => [node, set.size])),
  slot: server.slot
})

const run = async (command: ServerCommand): Promise<unknown> => {
  switch (command.cmd) {
    case "listen":
      await server.listen()
      return server.port
    case "greet":
      server.greet = command.on
      return null
    case "tick":
      tick()
      return null
    case "tickEvery":
      ticker = setInterval(tick, command.ms)
      return null
    case "stopTicks":
      clearInterval(ticker)
      return null
    case "blast":
      await server.blast(command.node, command.count)
      return null
    case "stats":
      return stats()
  }
}

process.on("message", (message: { id: number; command: ServerCommand }) => {
  run(message.command).then(
    (result) => process.send!({ id: message.id, result }),
    (error: Error) => process.send!({ id: message.id, error: error.message })
  )
})
process.on("disconnect", () => process.exit(0))
