// A TCP relay between the action and one host's sshd, for the network's bad day: on command it
// resets every connection it carries (a firewall reload, a NAT or VPN forgetting the flow), or
// silently drops every packet both ways for a while (a partition), then lets them through again.
import { connect, createServer, type Socket } from 'node:net'

export interface Relay {
  /** Where the action connects instead of the host: the host's own address, another port. */
  readonly address: string
  readonly port: number
  /** Sends a TCP reset both ways on every connection it carries, and forgets them. */
  reset(): void
  /**
   * Stops carrying anything, both ways, on every connection, new ones included (accepted, never
   * answered): what a partition looks like from either end.
   */
  blackhole(): void
  /**
   * Carries again what waited, as TCP would once the partition heals by retransmitting; a
   * connection one end gave up on meanwhile is closed at the other.
   */
  heal(): void
  close(): Promise<void>
}

interface Pair {
  readonly client: Socket
  upstream?: Socket
}

/** Starts a relay on `address` (a free port) to `to`. */
export async function startRelay(address: string, to: { address: string; port: number }): Promise<Relay> {
  const pairs = new Set<Pair>()
  let dropping = false
  const forget = (pair: Pair) => {
    pairs.delete(pair)
    pair.client.destroy()
    pair.upstream?.destroy()
  }
  const carry = (pair: Pair) => {
    const upstream = (pair.upstream ??= connect({ host: to.address, port: to.port, noDelay: true }))
    upstream.on('error', () => forget(pair)).on('close', () => forget(pair))
    pair.client.pipe(upstream)
    upstream.pipe(pair.client)
  }
  const server = createServer({ noDelay: true, pauseOnConnect: true }, (client) => {
    const pair: Pair = { client }
    pairs.add(pair)
    client.on('error', () => forget(pair)).on('close', () => forget(pair))
    if (!dropping) carry(pair)
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, address, resolve))
  const port = (server.address() as { port: number }).port
  return {
    address,
    port,
    reset() {
      for (const pair of pairs) {
        pairs.delete(pair)
        pair.client.resetAndDestroy()
        pair.upstream?.resetAndDestroy()
      }
    },
    blackhole() {
      dropping = true
      for (const { client, upstream } of pairs) {
        client.unpipe()
        upstream?.unpipe()
        client.pause()
        upstream?.pause()
      }
    },
    heal() {
      dropping = false
      for (const pair of pairs) {
        if (!pair.upstream) {
          carry(pair)
          continue
        }
        pair.client.pipe(pair.upstream)
        pair.upstream.pipe(pair.client)
      }
    },
    async close() {
      for (const pair of pairs) forget(pair)
      await new Promise((resolve) => server.close(resolve))
    }
  }
}
