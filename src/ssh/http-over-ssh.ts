// HTTP from the host's own network view: an undici Client whose every connection is an SSH
// `direct-tcpip` channel (what `ssh -L` does), so no port is opened to the runner and the URL's
// host name is resolved on the remote host.
import { isIP, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import type { ClientChannel, Client as SshClient } from 'ssh2'
import type { Client } from 'undici'
import type { HttpResponse } from '../ports.js'

/** Health responses are judged on their first bytes; a runaway body is not read further. */
const MAX_BODY_BYTES = 64 * 1024

/**
 * undici is the largest part of the bundle to start up, and only health-url needs it: it loads at
 * the first health check instead of delaying every run's first connection.
 */
let undici: Promise<typeof import('undici')> | undefined
const loadUndici = () => (undici ??= import('undici'))

export class HttpOverSsh {
  private readonly clients = new Map<string, Client>()

  constructor(private readonly ssh: SshClient) {}

  async get(url: URL, options: { timeoutMs: number; signal: AbortSignal }): Promise<HttpResponse> {
    const timeout = AbortSignal.timeout(options.timeoutMs)
    try {
      const client = await this.client(url)
      const response = await client.request({
        method: 'GET',
        path: `${url.pathname}${url.search}`,
        headers: { host: url.host, 'user-agent': 'rolling-deploy-health-check' },
        signal: AbortSignal.any([options.signal, timeout]),
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs
      })
      let body = ''
      for await (const chunk of response.body) {
        body += (chunk as Buffer).toString('utf8')
        if (body.length >= MAX_BODY_BYTES) {
          response.body.destroy()
          break
        }
      }
      return { status: response.statusCode, body }
    } catch (error: unknown) {
      // undici's own words here are "The operation was aborted due to timeout".
      if (timeout.aborted && !options.signal.aborted) throw new Error(`no answer within ${options.timeoutMs} ms`)
      throw error
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((client) => client.destroy()))
    this.clients.clear()
  }

  private async client(url: URL): Promise<Client> {
    let client = this.clients.get(url.origin)
    if (!client) {
      const { Client } = await loadUndici()
      const { host, port } = addressOf(url)
      client = new Client(url.origin, {
        connect: (_options, callback) => {
          const opened = (error: Error | undefined, channel?: ClientChannel) => {
            if (error || !channel)
              return callback(new Error(`the host cannot connect to ${host}:${port}: ${error?.message}`), null)
            // The SSH connection already proved which host this is; the TLS hop only runs inside it.
            const socket =
              url.protocol === 'https:'
                ? tlsConnect({ socket: channel, servername: isIP(host) ? undefined : host, rejectUnauthorized: false })
                : channel
            callback(null, socket as unknown as Socket)
          }
          // ssh2 throws rather than calls back once the connection is gone.
          try {
            this.ssh.forwardOut('127.0.0.1', 0, host, port, opened)
          } catch (error: unknown) {
            opened(error instanceof Error ? error : new Error(String(error)))
          }
        },
        pipelining: 1
      })
      this.clients.set(url.origin, client)
    }
    return client
  }
}

/** The address a URL's requests go to: its host (an IPv6 address unbracketed) and port. */
function addressOf(url: URL): { host: string; port: number } {
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80))
  }
}

/** SSH's reason code for a channel the server will not open by its own rule (sshd's AllowTcpForwarding, PermitOpen). */
const ADMINISTRATIVELY_PROHIBITED = 1

/**
 * Opens a tunnel to `url`'s address and closes it again: sshd's refusal, if it refuses to forward
 * at all; undefined if it forwards, whether or not anything listens there yet (a first deploy).
 */
export function forwardingRefused(ssh: SshClient, url: URL): Promise<string | undefined> {
  const { host, port } = addressOf(url)
  return new Promise((resolve) =>
    ssh.forwardOut('127.0.0.1', 0, host, port, (error, channel) => {
      if (!error) channel.close()
      const { reason } = (error ?? {}) as { reason?: unknown }
      resolve(reason === ADMINISTRATIVELY_PROHIBITED ? (error?.message ?? 'refused') : undefined)
    })
  )
}
