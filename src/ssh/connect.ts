// Opening one host's SSH connection: through the jump-host chain, host keys checked before any
// authentication (asking for the key types host-keys.ts says), connection-level errors retried
// with backoff, and the first hop's socket our own, with Nagle's algorithm off. Every hop's
// connection has an 'error' listener for its whole life: ssh2 emits one when the link resets or
// its keepalives go unanswered, and one nobody listens to would end the process.
import { connect, type Socket } from 'node:net'
import { setTimeout as pause } from 'node:timers/promises'
import { NodeSSH, type Config } from 'node-ssh'
import type { Client, ClientChannel, ServerHostKeyAlgorithm } from 'ssh2'
import { errorMessage } from '../errors.js'
import type { SshSettings, Target } from '../inputs/settings.js'
import type { Clock, Log } from '../ports.js'
import { HostKeyTypes, judgeHostKey, type RefusedKey } from './host-keys.js'
import type { ConnectionPool } from './pool.js'

/** An error that retrying cannot fix: a refused host key or failed authentication. */
export class PermanentSshError extends Error {}

/** What connecting needs besides the target: the settings, the keys trusted so far, and the pool. */
export interface ConnectContext {
  readonly settings: SshSettings
  readonly accepted: AcceptedKeyTypes
  readonly pool: ConnectionPool
  readonly clock: Clock
  readonly log: Log
}

/**
 * Connects through the jump-host chain, retrying connection-level errors with backoff. Everything
 * but a refused key or failed authentication is one: an sshd past its MaxStartups closes the socket
 * before its banner (`kex_exchange_identification` on its side; ECONNRESET or a connection lost
 * before the handshake on ours), and a later attempt finds a free start. The backoff is jittered so
 * that hosts dropped together do not all come back together.
 */
export async function connectWithRetry(
  target: Target,
  context: ConnectContext,
  signal: AbortSignal
): Promise<NodeSSH[]> {
  const { settings, clock, log, pool } = context
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectChain(target, context)
    } catch (error: unknown) {
      const message = errorMessage(error)
      if (error instanceof PermanentSshError || attempt >= settings.connectAttempts || signal.aborted) {
        throw error instanceof PermanentSshError ? error : new Error(`cannot connect to ${target.entry}: ${message}`)
      }
      const backoffMs = Math.round(500 * 2 ** (attempt - 1) * (1 + Math.random() / 2))
      pool.counts.handshakeRetries++
      log.info(`[${target.entry}] connection attempt ${attempt} failed (${message}); retrying in ${backoffMs} ms`)
      await clock.sleep(backoffMs, signal)
    }
  }
}

/**
 * Keepalives every 5 s, 3 unanswered allowed: a link that silently stopped carrying anything is
 * given up 15 to 20 s later (well within 30 s), and the host's next use reconnects.
 */
const KEEPALIVE = { keepaliveInterval: 5_000, keepaliveCountMax: 3 }

/** Why each connection ended badly: its last 'error' (`read ECONNRESET`, `Keepalive timeout`). */
const lastErrors = new WeakMap<NodeSSH, string>()

/** Why the chain's connection was lost, in ssh2's words; the first hop that says. */
export function lostBecause(chain: readonly NodeSSH[]): string {
  return chain.map((ssh) => lastErrors.get(ssh)).find((why) => why !== undefined) ?? 'closed without an error'
}

/** Keeps the hop's connection errors for lostBecause, for as long as the connection lives. */
function listenForErrors(ssh: NodeSSH): NodeSSH {
  ssh.connection?.on('error', (error: Error) => lastErrors.set(ssh, error.message))
  return ssh
}

async function connectChain(target: Target, context: ConnectContext): Promise<NodeSSH[]> {
  const chain: NodeSSH[] = []
  try {
    for (const hop of [...context.settings.jumpHosts, target])
      chain.push(listenForErrors(await connectHop(hop, context, chain.at(-1))))
    return chain
  } catch (error: unknown) {
    await closeChain(chain)
    throw error
  }
}

/** Each hop's socket, which says when it has closed. */
const sockets = new WeakMap<NodeSSH, Promise<void>>()

/** Ends the chain's connections (the target's first) and resolves once their sockets have closed, or 5 s later. */
export async function closeChain(chain: readonly NodeSSH[]): Promise<void> {
  const closed = chain.map((ssh) => sockets.get(ssh) ?? Promise.resolve())
  ;[...chain].reverse().forEach((ssh) => ssh.dispose())
  await Promise.race([Promise.all(closed), pause(5_000, undefined, { ref: false })])
}

/** A host key a hop showed and was trusted for. */
export interface AcceptedKey {
  /** Its type, offered first when the hop reconnects. */
  readonly type: string
  /** Type, fingerprint and what trusted it, for the dry run's report. */
  readonly described: string
}

/** The host key each hop (by its entry) showed and was trusted for. */
export type AcceptedKeyTypes = Map<string, AcceptedKey>

/** A host key the hop showed was refused (thrown before any authentication). */
class HostKeyRefused extends Error {
  constructor(readonly key: RefusedKey) {
    super(`host key refused: ${key.type} ${key.fingerprint}`)
  }
}

/** Connects to one hop (through the one before it), asking for its host key types as HostKeyTypes says. */
async function connectHop(hop: Target, context: ConnectContext, previous: NodeSSH | undefined): Promise<NodeSSH> {
  const { settings, accepted, pool } = context
  const types = new HostKeyTypes(hop, settings.hostKeys, accepted.get(hop.entry)?.type)
  for (;;) {
    try {
      const { ssh, key } = await pool.handshake(async () => {
        const through = previous?.connection ? await forward(previous.connection, hop) : undefined
        const sock = through ?? connect({ host: hop.host, port: hop.port, noDelay: true })
        pool.opened(sock)
        return connectOne(hop, settings, sock, types.algorithms())
      })
      accepted.set(hop.entry, key)
      return ssh
    } catch (error: unknown) {
      if (error instanceof HostKeyRefused) {
        if (!types.retryAfter(error.key)) throw new PermanentSshError(types.message())
      } else if (types.anyRefused && /no matching host key/i.test(errorMessage(error))) {
        throw new PermanentSshError(types.message()) // it has no other type of key
      } else {
        throw error
      }
    }
  }
}

function forward(connection: Client, hop: Target): Promise<ClientChannel> {
  return new Promise((resolve, reject) =>
    connection.forwardOut('127.0.0.1', 0, hop.host, hop.port, (error, channel) =>
      error ? reject(new Error(`jump host cannot reach ${hop.entry}: ${error.message}`)) : resolve(channel)
    )
  )
}

/**
 * One hop's handshake on `sock`: our own socket for the first hop, made with Nagle's algorithm off
 * before the handshake (each of its round trips, and later every step, is a small message waiting
 * on a small answer, which Nagle holds back for a delayed ACK: measured here, 100 ms per command
 * with it, 14 ms without), or a channel through the hop before.
 */
async function connectOne(
  hop: Target,
  settings: SshSettings,
  sock: ClientChannel | Socket,
  serverHostKey: ServerHostKeyAlgorithm[]
): Promise<{ ssh: NodeSSH; key: AcceptedKey }> {
  let refused: RefusedKey | undefined
  let shown: AcceptedKey = { type: '', described: '' }
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()))
  const config: Config = {
    host: hop.host,
    port: hop.port,
    username: hop.user,
    privateKey: settings.auth.privateKey,
    passphrase: settings.auth.passphrase,
    password: settings.auth.password,
    agent: settings.auth.privateKey || settings.auth.password ? undefined : process.env.SSH_AUTH_SOCK,
    readyTimeout: settings.connectTimeoutMs,
    ...KEEPALIVE,
    algorithms: { serverHostKey },
    sock,
    hostVerifier: (key: Buffer) => {
      const judged = judgeHostKey(hop, key, settings.hostKeys)
      refused = judged.refused
      if (judged.refused === undefined)
        shown = { type: judged.type, described: `${judged.type} ${judged.fingerprint} (${judged.trustedBy})` }
      return refused === undefined
    }
  }
  try {
    const ssh = await new NodeSSH().connect(config)
    sockets.set(ssh, closed)
    return { ssh, key: shown }
  } catch (error: unknown) {
    sock.destroy()
    await Promise.race([closed, pause(5_000, undefined, { ref: false })])
    if (refused !== undefined) throw new HostKeyRefused(refused)
    if (/authentication methods failed/i.test(errorMessage(error))) {
      throw new PermanentSshError(
        `authentication as ${hop.user} on ${hop.entry} failed: check private-key/password and the host's authorized_keys`
      )
    }
    throw error
  }
}
