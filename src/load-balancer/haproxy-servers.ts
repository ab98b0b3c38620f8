// Which HAProxy servers are a host: those haproxy-servers names for its entry, or else every server
// whose address is the host's (in any backend), as one HAProxy's `show servers state` lists them.
// Read once per HAProxy and run: a rollout does not add servers to its own load balancer.
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import type { HaproxySettings } from '../inputs/settings.js'
import type { LbMember } from '../ports.js'
import { parseServersState, serverName, type ServerEntry, type ServerRef } from './haproxy-api.js'
import type { AdminSocket } from './haproxy-socket.js'

/** A host name's addresses as the runner resolves them (none if it cannot). */
export type Resolve = (host: string) => Promise<string[]>

export const resolveOnRunner: Resolve = async (host) =>
  (await lookup(host, { all: true }).catch(() => [])).map(({ address }) => address)

export class ServerMap {
  private table?: Promise<ServerEntry[]>
  private readonly found = new Map<string, Promise<ServerRef[]>>()

  constructor(
    private readonly socket: AdminSocket,
    private readonly named: HaproxySettings['servers'],
    private readonly resolve: Resolve
  ) {}

  /** The member's servers in this HAProxy; throws, saying what it looked for, if it has none. */
  of(member: LbMember, signal: AbortSignal): Promise<ServerRef[]> {
    const { entry } = member.host.target
    let servers = this.found.get(entry)
    if (servers === undefined) {
      servers = this.lookUp(member, signal)
      // Looked up again next time; the table itself is read again only if reading it failed.
      servers.catch(() => this.found.delete(entry))
      this.found.set(entry, servers)
    }
    return servers
  }

  private entries(signal: AbortSignal): Promise<ServerEntry[]> {
    if (this.table === undefined) {
      this.table = this.socket.send('show servers state', signal).then(parseServersState)
      this.table.catch(() => (this.table = undefined))
    }
    return this.table
  }

  private async lookUp(member: LbMember, signal: AbortSignal): Promise<ServerRef[]> {
    const { entry, host } = member.host.target
    const entries = await this.entries(signal)
    const named = this.named.get(entry)
    if (named !== undefined) {
      const missing = named.filter((ref) => !entries.some((known) => same(known, ref)))
      if (missing.length > 0)
        throw new Error(`no server ${missing.map(serverName).join(', ')} (haproxy-servers names it)`)
      return [...named]
    }
    const addresses = new Set([host.toLowerCase()])
    if (isIP(host) === 0) for (const address of await this.resolve(host)) addresses.add(address.toLowerCase())
    const mine = entries.filter(
      ({ address, fqdn }) => addresses.has(address.toLowerCase()) || fqdn.toLowerCase() === host.toLowerCase()
    )
    if (mine.length === 0) {
      const known = [...new Set(entries.map(({ address }) => address))]
      const listed = known.length > 8 ? `${known.slice(0, 8).join(', ')}…` : known.join(', ') || 'none'
      throw new Error(
        `no server at ${[...addresses].join(' or ')} (its servers' addresses: ${listed}); name its servers in haproxy-servers`
      )
    }
    return mine.map(({ backend, server }) => ({ backend, server }))
  }
}

const same = (a: ServerRef, b: ServerRef) => a.backend === b.backend && a.server === b.server
