// HAProxy's runtime API as text: the commands this action sends on the admin socket and what it
// reads back (`show servers state`, `show stat`'s CSV). Pure, so every answer HAProxy can give is
// a unit test; the transports (haproxy-socket.ts) only carry the bytes.

/** One server of one backend: what `set server` names. */
export interface ServerRef {
  readonly backend: string
  readonly server: string
}

/** A line of `show servers state`: where each server is, for finding a host's servers by its address. */
export interface ServerEntry extends ServerRef {
  readonly address: string
  /** The name it resolves, where HAProxy has one; `-` otherwise. */
  readonly fqdn: string
}

/** A server's line of `show stat`. */
export interface ServerStat extends ServerRef {
  /** Current sessions: requests in flight through this server. */
  readonly scur: number
  /** HAProxy's own words: UP, `UP 1/2`, DOWN, `DOWN 1/2`, DRAIN, MAINT, NOLB, `no check`... */
  readonly status: string
}

/**
 * HAProxy's rule for proxy and server names (letters, digits, `.`, `-`, `_`, `:`), which also keeps
 * them from splitting a command: no space, no `;` (its command separator), no line break.
 */
const NAME = /^[A-Za-z0-9._:-]+$/

export const SERVER_FORM = 'backend/server, HAProxy names of letters, digits, ".", "-", "_" and ":"'

/** `backend/server` as HAProxy names them; undefined if it is not that. */
export function parseServerRef(text: string): ServerRef | undefined {
  const [backend, server, ...rest] = text.trim().split('/')
  if (rest.length > 0 || server === undefined || !NAME.test(backend) || !NAME.test(server)) return undefined
  return { backend, server }
}

/** `tcp://ADDRESS:PORT` (an IPv6 address in brackets), a `stats socket ipv4@…` line's address; undefined if not that. */
export function parseTcpSocket(text: string): { host: string; port: number } | undefined {
  const match = /^tcp:\/\/(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+)):(\d{1,5})$/.exec(text)
  const port = Number(match?.[3])
  if (!match || port < 1 || port > 65535) return undefined
  return { host: match[1] ?? match[2], port }
}

export const serverName = ({ backend, server }: ServerRef): string => `${backend}/${server}`

export type AdminState = 'drain' | 'maint' | 'ready'

/** `set server B/S state drain|maint|ready`, from names checked again here: they reach HAProxy's parser. */
export function setStateCommand(ref: ServerRef, state: AdminState): string {
  const name = serverName(ref)
  if (parseServerRef(name) === undefined) throw new Error(`'${name}' is not a server; expected ${SERVER_FORM}`)
  return `set server ${name} state ${state}`
}

/** A `set server` answers nothing when it worked, and its reason otherwise (`No such server.`). */
export function checkSetAnswer(command: string, answer: string): void {
  const said = answer.trim()
  if (said !== '') throw new Error(`HAProxy refused \`${command}\`: ${said.split('\n').join(' ')}`)
}

/** The header's column names and the rows, split on `separator`; throws with HAProxy's words if there is no header. */
function table(
  answer: string,
  separator: RegExp | string,
  what: string
): { column: (name: string) => number; rows: string[][] } {
  const lines = answer.split('\n').filter((line) => line.trim() !== '')
  const at = lines.findIndex((line) => line.startsWith('# '))
  if (at < 0)
    throw new Error(`HAProxy did not answer \`${what}\` with a table: ${answer.trim().slice(0, 200) || '(nothing)'}`)
  const names = lines[at].slice(2).trim().split(separator)
  const column = (name: string) => {
    const index = names.indexOf(name)
    if (index < 0) throw new Error(`HAProxy's \`${what}\` has no column ${name}`)
    return index
  }
  return { column, rows: lines.slice(at + 1).map((line) => line.trim().split(separator)) }
}

/** `show servers state` (format 1: a version line, a `# be_id be_name …` header, one line per server). */
export function parseServersState(answer: string): ServerEntry[] {
  const { column, rows } = table(answer, /\s+/, 'show servers state')
  const [backend, server, address, fqdn] = ['be_name', 'srv_name', 'srv_addr', 'srv_fqdn'].map(column)
  return rows
    .filter((row) => row.length > Math.max(backend, server, address))
    .map((row) => ({ backend: row[backend], server: row[server], address: row[address], fqdn: row[fqdn] ?? '-' }))
}

/** `show stat`: every server's line (the FRONTEND and BACKEND summary lines left out). */
export function parseStat(answer: string): ServerStat[] {
  const { column, rows } = table(answer, ',', 'show stat')
  const [backend, server, scur, status] = ['pxname', 'svname', 'scur', 'status'].map(column)
  return rows
    .filter((row) => row.length > status && !['FRONTEND', 'BACKEND'].includes(row[server]))
    .map((row) => ({
      backend: row[backend],
      server: row[server],
      scur: Number(row[scur]) || 0,
      status: row[status]
    }))
}

/**
 * Whether HAProxy sends the server new requests: UP (also `UP 1/2`, still up while checks fail)
 * and `no check` (a server without health checks); DRAIN, MAINT, NOLB, DOWN and `DOWN 1/2` not.
 */
export function servesTraffic(status: string): boolean {
  return /^UP(\s|$)/.test(status) || status === 'no check'
}

/**
 * Back for good, as HAProxy's own health check sees it: UP with every check passing. Leaving
 * maintenance HAProxy shows `UP 1/2` until the next check passes; a server without checks is
 * `no check` at once.
 */
export function confirmedUp(status: string): boolean {
  return status === 'UP' || status === 'no check'
}

/** The stat lines of `refs`, in their order; a ref HAProxy does not show is missing. */
export function statsOf(stats: readonly ServerStat[], refs: readonly ServerRef[]): (ServerStat | undefined)[] {
  return refs.map((ref) => stats.find((stat) => stat.backend === ref.backend && stat.server === ref.server))
}
