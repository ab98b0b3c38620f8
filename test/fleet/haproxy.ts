// The load balancer: HAProxy with active HTTP health checks on /nginx-status.html, like the
// seed's SLB (2 failures out, 2 successes in) scaled down to a 100 ms interval, and an admin
// socket from which tests read each server's state.
import { writeFileSync } from 'node:fs'
import { createConnection } from 'node:net'
import { join } from 'node:path'
import { startDaemon, type Daemon } from './daemon.js'

export interface Backend {
  readonly name: string
  readonly address: string
  readonly port: number
}

/** HAProxy's health check timing: every `interMs`, `fall` failures out, `rise` successes in. */
export interface Check {
  readonly interMs: number
  readonly fall: number
  readonly rise: number
}

export const CHECK: Check = { interMs: 100, fall: 2, rise: 2 }

export interface LoadBalancer {
  readonly port: number
  readonly socket: string
  readonly daemon: Daemon
  /** Server name → HAProxy status (UP, DOWN, "UP 1/2", "DOWN 1/2", MAINT...). */
  states(): Promise<Map<string, string>>
  stop(): Promise<void>
}

/** An admin socket besides the fleet's own: inside an LB host's disk, for its login user over SSH. */
export interface ExtraSocket {
  readonly path: string
  readonly user: string
}

export function haproxyConfig(
  backends: readonly Backend[],
  port: number,
  socket: string,
  extraSockets: readonly ExtraSocket[] = [],
  check: Check = CHECK
): string {
  return `global
  stats socket ${socket} mode 600 level admin
${extraSockets.map(({ path, user }) => `  stats socket ${path} user ${user} mode 600 level admin\n`).join('')}  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend web
  bind 127.0.0.1:${port}
  default_backend app
backend app
  balance roundrobin
  # One connection per request to the hosts, so a host's established connections on its web port
  # are exactly its requests in flight: what drain-timeout waits for. (Pooled idle keep-alive
  # connections would count too, and hold a drain until its timeout.)
  option http-server-close
  option httpchk GET /nginx-status.html
  http-check expect status 200
  default-server inter ${check.interMs}ms fall ${check.fall} rise ${check.rise}
${backends.map((b) => `  server ${b.name} ${b.address}:${b.port} check`).join('\n')}
`
}

/** One command on the admin socket, e.g. `show stat`. */
export function adminCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = ''
    const connection = createConnection(socket, () => connection.end(`${command}\n`))
    connection.on('data', (chunk: Buffer) => (answer += chunk.toString()))
    connection.on('end', () => resolve(answer))
    connection.on('error', reject)
  })
}

export function parseStates(csv: string): Map<string, string> {
  return parseColumn(csv, 'status')
}

/** Server name → one column of `show stat` (status, scur...), for the backend `app`'s servers. */
export function parseColumn(csv: string, column: string): Map<string, string> {
  const [header, ...rows] = csv.trim().split('\n')
  const columns = header.replace(/^# /, '').split(',')
  const [proxy, server, wanted] = ['pxname', 'svname', column].map((name) => columns.indexOf(name))
  const values = new Map<string, string>()
  for (const row of rows) {
    const fields = row.split(',')
    if (fields[proxy] === 'app' && !['BACKEND', 'FRONTEND'].includes(fields[server]))
      values.set(fields[server], fields[wanted])
  }
  return values
}

/** Out of rotation: HAProxy sends it no new requests (DOWN, coming back "DOWN 1/2", MAINT, NOLB). */
export function outOfRotation(status: string): boolean {
  return !status.startsWith('UP')
}

export interface HaproxyOptions {
  /** Its files in dir are `<name>.cfg` and `<name>.sock`: a second HAProxy needs a name of its own. */
  readonly name?: string
  readonly extraSockets?: readonly ExtraSocket[]
  /** The benchmark's production-like `inter 2s fall 3 rise 2`; CHECK (scaled down) by default. */
  readonly check?: Check
}

export async function startHaproxy(
  dir: string,
  backends: readonly Backend[],
  port: number,
  { name = 'haproxy', extraSockets = [], check = CHECK }: HaproxyOptions = {}
): Promise<LoadBalancer> {
  const socket = join(dir, `${name}.sock`)
  const config = join(dir, `${name}.cfg`)
  writeFileSync(config, haproxyConfig(backends, port, socket, extraSockets, check))
  const daemon = await startDaemon(name, '/usr/sbin/haproxy', ['-db', '-f', config], {
    address: '127.0.0.1',
    port
  })
  return {
    port,
    socket,
    daemon,
    states: async () => parseStates(await adminCommand(socket, 'show stat')),
    stop: () => daemon.stop()
  }
}
