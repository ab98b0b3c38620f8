// Where HAProxy's admin socket is reached: on each LB host over SSH (haproxy-hosts), or from the
// runner (a unix path, or `tcp://ADDRESS:PORT` for a `stats socket ipv4@…` line). One command per
// connection: HAProxy answers it and closes, so no answer can mix with another's.
import { createConnection } from 'node:net'
import { errorMessage } from '../errors.js'
import { exchange } from '../exchange.js'
import type { HaproxySettings, Target } from '../inputs/settings.js'
import type { Connector, Log, RemoteHost } from '../ports.js'
import { askSocketScript } from '../ssh/remote-scripts.js'
import { MEASURE_MS } from './host-side.js'
import { parseTcpSocket } from './haproxy-api.js'

/** One HAProxy's admin socket. */
export interface AdminSocket {
  /** For messages: the LB host's entry, or the socket as given. */
  readonly where: string
  /** Sends one command (`show stat`) and resolves to HAProxy's whole answer. */
  send(command: string, signal: AbortSignal): Promise<string>
  /** Closes whatever it opened to reach the socket (an LB host's SSH connection). */
  close(): Promise<void>
}

/** The most one command may take: reading HAProxy must never hold a run up. */
export const ASK_MS = MEASURE_MS

/** Every HAProxy the settings name: one per LB host, or the runner's one. */
export function adminSockets(connector: Connector, log: Log, settings: HaproxySettings): AdminSocket[] {
  if (settings.hosts.length === 0) return [runnerSocket(settings.socket)]
  return settings.hosts.map((target) => hostSocket(connector, log, target, settings.socket))
}

/** `tcp://ADDRESS:PORT` (IPv6 in brackets) or a unix socket's path, both on the runner. */
export function runnerSocket(socket: string): AdminSocket {
  const target = parseTcpSocket(socket) ?? { path: socket }
  return {
    where: socket,
    send: (command, signal) =>
      exchange(
        () =>
          new Promise((resolve, reject) => {
            const connection = createConnection(target, () => resolve(connection))
            connection.once('error', (error) => reject(new Error(`cannot connect to ${socket}: ${error.message}`)))
          }),
        `${command}\n`,
        { timeoutMs: ASK_MS, signal }
      ),
    close: async () => undefined
  }
}

/**
 * The socket at `path` on an LB host, through sshd's own forwarding to unix sockets; where sshd
 * does not open it (AllowStreamLocalForwarding no, sshd cannot say why), with socat on the host:
 * from then on once that worked.
 */
export function hostSocket(connector: Connector, log: Log, target: Target, path: string): AdminSocket {
  let host: Promise<RemoteHost> | undefined
  let withSocat = false
  const connected = (signal: AbortSignal) =>
    (host ??= connector.connect(target, signal).catch((error: unknown) => {
      host = undefined // the next command tries again
      throw error
    }))
  return {
    where: target.entry,
    async send(command, signal) {
      const remote = await connected(signal)
      const request = `${command}\n`
      if (withSocat || !remote.askSocket) return withSocatOn(remote, path, request, signal)
      const result = await remote.askSocket(path, request, { timeoutMs: ASK_MS, signal })
      if ('answer' in result) return result.answer
      const answer = await withSocatOn(remote, path, request, signal).catch((error: unknown) => {
        throw new Error(
          `sshd did not open ${path} (${result.refused}: AllowStreamLocalForwarding no, or the socket missing or not the login user's), nor could socat: ${errorMessage(error)}`
        )
      })
      withSocat = true
      log.info(
        `[${target.entry}] sshd did not open ${path} (${result.refused}); socat on the host did: asking HAProxy with socat there`
      )
      return answer
    },
    async close() {
      const opened = await host?.catch(() => undefined)
      host = undefined
      await opened?.close()
    }
  }
}

async function withSocatOn(host: RemoteHost, path: string, request: string, signal: AbortSignal): Promise<string> {
  const lines: string[] = []
  const result = await host.exec(askSocketScript(path, request), {
    env: [],
    timeoutMs: ASK_MS,
    signal,
    onLine: (line) => lines.push(line)
  })
  if (result.code !== 0) {
    const why = result.timedOut ? `no answer within ${ASK_MS} ms` : (lines.at(-1) ?? `exit code ${result.code}`)
    throw new Error(`socat on ${host.target.entry} could not ask ${path}: ${why}`)
  }
  return lines.join('\n')
}
