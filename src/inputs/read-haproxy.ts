// load-balancer: haproxy's inputs: the LB hosts (haproxy-hosts), its admin socket there or on the
// runner (haproxy-socket), and the servers a host entry is where its address does not say (haproxy-servers).
import { parseServerRef, parseTcpSocket, SERVER_FORM, type ServerRef } from '../load-balancer/haproxy-api.js'
import { DEFAULTS } from './catalog.js'
import type { InputReader } from './input-reader.js'
import { InputError } from './parse.js'
import { readTargets } from './read-connection.js'
import type { HaproxySettings, LoadBalancerKind, Target } from './settings.js'

const HAPROXY_INPUTS = ['haproxy-hosts', 'haproxy-socket', 'haproxy-servers'] as const

/** `hosts`: the target hosts, whose entries haproxy-servers names; `port`: the port input, for LB hosts. */
export function readHaproxy(input: InputReader, hosts: readonly Target[], port: number): HaproxySettings {
  const lbHosts = readTargets(input, 'haproxy-hosts', port)
  const socket = input.defaulted('haproxy-socket', (value) =>
    parseSocket(value, input.raw('haproxy-hosts') !== undefined)
  )
  return { hosts: lbHosts, socket, servers: readServers(input, hosts) }
}

/** With another kind of load balancer, haproxy-* would be silently unused: each set one is a problem. */
export function refuseHaproxyInputs(input: InputReader, kind: LoadBalancerKind): void {
  for (const name of HAPROXY_INPUTS) {
    const value = input.raw(name)
    // haproxy-socket always has its default: only another value was set.
    if (value !== undefined && !(name === 'haproxy-socket' && value === DEFAULTS[name]))
      input.problem(name, value, `is only used with load-balancer: haproxy (here: ${kind})`)
  }
}

const SOCKET_PATH = /^\/[A-Za-z0-9._/@+-]*$/

function parseSocket(value: string, onLbHosts: boolean): string {
  if (value.startsWith('tcp://')) {
    if (onLbHosts)
      throw new InputError(
        "is a TCP address, which the runner reaches; with haproxy-hosts, give the unix socket's path on them"
      )
    if (parseTcpSocket(value) === undefined)
      throw new InputError('expected tcp://ADDRESS:PORT, an IPv6 address in brackets (tcp://[::1]:9999)')
    return value
  }
  if (!SOCKET_PATH.test(value))
    throw new InputError(
      "expected the admin socket's absolute path (letters, digits and . _ - + @ /), e.g. /run/haproxy/admin.sock, or tcp://ADDRESS:PORT"
    )
  return value
}

/** `ENTRY=backend/server` lines, ENTRY a hosts entry as written; a host in several backends has a line each. */
function readServers(input: InputReader, hosts: readonly Target[]): Map<string, ServerRef[]> {
  const servers = new Map<string, ServerRef[]>()
  const form = `expected ENTRY=${SERVER_FORM} lines, ENTRY a hosts entry as written`
  for (const line of (input.raw('haproxy-servers') ?? '').split('\n')) {
    const item = line.replace(/(^|\s)#.*$/, '').trim()
    if (item === '') continue
    const eq = item.indexOf('=')
    const entry = item.slice(0, Math.max(eq, 0)).trim()
    const ref = parseServerRef(item.slice(eq + 1))
    if (eq < 0 || ref === undefined) {
      input.problem('haproxy-servers', item, form)
    } else if (!hosts.some((host) => host.entry === entry)) {
      const entries = hosts.slice(0, 5).map((host) => host.entry)
      const more = hosts.length > 5 ? ', …' : ''
      input.problem('haproxy-servers', item, `'${entry}' is not in hosts; expected one of ${entries.join(', ')}${more}`)
    } else {
      servers.set(entry, [...(servers.get(entry) ?? []), ref])
    }
  }
  return servers
}
