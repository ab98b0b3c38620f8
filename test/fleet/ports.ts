// Ports that two concurrent runs cannot both get: the kernel picks a free one, we release it just
// before the server binds, and callers retry a start that lost the race.
import { createServer } from 'node:net'

export function freePort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, address, () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
