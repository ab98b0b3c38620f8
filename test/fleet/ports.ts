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

/** One port free on every address: hosts on 127.0.0.x all run their app (and nginx) on it. */
export async function freePortOnAll(addresses: readonly string[]): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort(addresses[0])
    const taken = await Promise.all(addresses.slice(1).map((address) => isTaken(address, port)))
    if (!taken.includes(true)) return port
  }
  throw new Error(`no port is free on all of ${addresses.join(', ')}`)
}

function isTaken(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(true))
    server.listen(port, address, () => server.close(() => resolve(false)))
  })
}
