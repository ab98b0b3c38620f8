// RemoteHost over node-ssh/ssh2: host key checking before authentication, jump host chains,
// bounded connection retries, one connection per host that is re-opened if it drops, and on it
// one long-lived shell for the host's commands (remote-command.ts).
import { statSync } from 'node:fs'
import { connect } from 'node:net'
import { setTimeout as pause } from 'node:timers/promises'
import { NodeSSH, type Config } from 'node-ssh'
import type { Client, ClientChannel, ServerHostKeyAlgorithm } from 'ssh2'
import { HttpOverSsh } from './http-over-ssh.js'
import { HostKeyTypes, refuseHostKey, type RefusedKey } from './host-keys.js'
import { keyType } from '../inputs/known-hosts.js'
import { errorMessage } from '../errors.js'
import type { Clock, Connector, ExecOptions, ExecResult, Log, RemoteHost } from '../ports.js'
import { LongLivedShell, runChannel, type ShellState } from './remote-command.js'
import { CHANNEL_COMMAND } from './remote-scripts.js'
import type { Settings, Target } from '../inputs/settings.js'

/** An error that retrying cannot fix: a refused host key or failed authentication. */
export class PermanentSshError extends Error {}

export interface ConnectorOptions {
  /** Run commands in one long-lived shell per host where it can (the default), or each on a channel of its own. */
  readonly longLivedShell?: boolean
}

export function createSshConnector(
  settings: Settings,
  clock: Clock,
  log: Log,
  { longLivedShell = true }: ConnectorOptions = {}
): Connector {
  const accepted: AcceptedKeyTypes = new Map()
  return {
    async connect(target, signal) {
      const reconnect = () => connectWithRetry(target, settings, accepted, clock, log, signal)
      return new SshRemoteHost(target, await reconnect(), reconnect, log, longLivedShell)
    }
  }
}

/** Connects through the jump-host chain, retrying connection-level errors with backoff. */
async function connectWithRetry(
  target: Target,
  settings: Settings,
  accepted: AcceptedKeyTypes,
  clock: Clock,
  log: Log,
  signal: AbortSignal
): Promise<NodeSSH[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectChain(target, settings, accepted)
    } catch (error: unknown) {
      const message = errorMessage(error)
      if (error instanceof PermanentSshError || attempt >= settings.connectAttempts || signal.aborted) {
        throw error instanceof PermanentSshError ? error : new Error(`cannot connect to ${target.entry}: ${message}`)
      }
      const backoffMs = 500 * 2 ** (attempt - 1)
      log.info(`[${target.entry}] connection attempt ${attempt} failed (${message}); retrying in ${backoffMs} ms`)
      await clock.sleep(backoffMs, signal)
    }
  }
}

async function connectChain(target: Target, settings: Settings, accepted: AcceptedKeyTypes): Promise<NodeSSH[]> {
  const chain: NodeSSH[] = []
  try {
    for (const hop of [...settings.jumpHosts, target])
      chain.push(await connectHop(hop, settings, chain.at(-1), accepted))
    return chain
  } catch (error: unknown) {
    chain.forEach((ssh) => ssh.dispose())
    throw error
  }
}

/** The host key type each hop showed and was trusted for, offered first when it reconnects. */
type AcceptedKeyTypes = Map<string, string>

/** A host key the hop showed was refused (thrown before any authentication). */
class HostKeyRefused extends Error {
  constructor(readonly key: RefusedKey) {
    super(`host key refused: ${key.type} ${key.fingerprint}`)
  }
}

/** Connects to one hop (through the one before it), asking for its host key types as HostKeyTypes says. */
async function connectHop(
  hop: Target,
  settings: Settings,
  previous: NodeSSH | undefined,
  accepted: AcceptedKeyTypes
): Promise<NodeSSH> {
  const types = new HostKeyTypes(hop, settings.hostKeys, accepted.get(hop.entry))
  for (;;) {
    const sock = previous?.connection ? await forward(previous.connection, hop) : undefined
    try {
      const { ssh, keyType } = await connectOne(hop, settings, sock, types.algorithms())
      accepted.set(hop.entry, keyType)
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

async function connectOne(
  hop: Target,
  settings: Settings,
  through: ClientChannel | undefined,
  serverHostKey: ServerHostKeyAlgorithm[]
): Promise<{ ssh: NodeSSH; keyType: string }> {
  let refused: RefusedKey | undefined
  let shown = ''
  // Our own socket for the first hop, to turn Nagle's algorithm off before the handshake: each of
  // its round trips, and later every phase, is a small message waiting on a small answer, which
  // Nagle holds back for a delayed ACK (measured here: 100 ms per command with it, 14 ms without).
  const sock = through ?? connect({ host: hop.host, port: hop.port, noDelay: true })
  const config: Config = {
    host: hop.host,
    port: hop.port,
    username: hop.user,
    privateKey: settings.auth.privateKey,
    passphrase: settings.auth.passphrase,
    password: settings.auth.password,
    agent: settings.auth.privateKey || settings.auth.password ? undefined : process.env.SSH_AUTH_SOCK,
    readyTimeout: settings.connectTimeoutMs,
    keepaliveInterval: 10_000,
    algorithms: { serverHostKey },
    sock,
    hostVerifier: (key: Buffer) => {
      shown = keyType(key)
      refused = refuseHostKey(hop, key, settings.hostKeys)
      return refused === undefined
    }
  }
  try {
    return { ssh: await new NodeSSH().connect(config), keyType: shown }
  } catch (error: unknown) {
    sock.destroy()
    if (refused !== undefined) throw new HostKeyRefused(refused)
    if (/authentication methods failed/i.test(errorMessage(error))) {
      throw new PermanentSshError(
        `authentication as ${hop.user} on ${hop.entry} failed: check private-key/password and the host's authorized_keys`
      )
    }
    throw error
  }
}

class SshRemoteHost implements RemoteHost {
  private http?: HttpOverSsh
  /** Where commands run once it is ready: one long-lived shell on the current connection. */
  private shell?: LongLivedShell

  constructor(
    readonly target: Target,
    private chain: NodeSSH[],
    private readonly reconnect: () => Promise<NodeSSH[]>,
    private readonly log: Log,
    private useShell: boolean
  ) {}

  /** The target's connection, re-opened first if it dropped since the last use. */
  private async ssh(forceReconnect = false): Promise<NodeSSH> {
    if (forceReconnect || !this.chain.every((ssh) => ssh.isConnected())) {
      this.log.info(`[${this.target.entry}] the SSH connection was lost; reconnecting`)
      this.chain.forEach((ssh) => ssh.dispose())
      await this.http?.close()
      this.http = undefined
      this.chain = await this.reconnect()
    }
    return this.chain[this.chain.length - 1]
  }

  async exec(command: string, options: ExecOptions): Promise<ExecResult> {
    if (!this.useShell) return this.execOnChannel(command, options)
    const connection = (await this.ssh()).connection
    if (!connection) throw new Error('not connected')
    if (this.shell?.connection !== connection || ['closed', 'failed'].includes(this.shell.state)) {
      this.shell?.close()
      this.shell = new LongLivedShell(connection)
    }
    const { shell } = this
    const inShell = () => shell.run(command, options)
    if (shell.available) return inShell()
    if (shell.state === 'starting') {
      // The first command (or the first after a reconnect) does not wait for the shell: a channel
      // of its own, on this connection. A host that allows one session at a time (MaxSessions 1)
      // refuses it while the shell holds that session: then the command waits for the shell.
      const onChannel = await this.openChannel(command, options, false).catch(() => undefined)
      if (onChannel) return onChannel()
      const state = await settledWithin(shell, options)
      if (state === 'starting') return { code: null, timedOut: !options.signal.aborted }
      if (state === 'ready' && shell.available) return inShell()
    }
    // Busy (never, in a rollout), or refused: a channel of its own. Refused means no setsid, or a
    // forced command in the way: channels from now on.
    if (shell.state === 'refused' && this.chain.every((ssh) => ssh.isConnected())) this.useShell = false
    return this.execOnChannel(command, options)
  }

  /** The command on an SSH channel of its own. */
  private async execOnChannel(command: string, options: ExecOptions): Promise<ExecResult> {
    // The open can fail, and the command then never started. A live connection may refuse it for
    // a moment: a host that allows one session at a time (MaxSessions 1) frees the last session
    // only after it has handled our close of it, so the open is retried there shortly. A connection
    // that died unnoticed fails it too: one fresh connection may then run it.
    for (let retryInMs = 10; ; retryInMs *= 2) {
      const onChannel = await this.openChannel(command, options, false).catch(() => undefined)
      if (onChannel) return onChannel()
      if (retryInMs > 320 || !this.chain.every((ssh) => ssh.isConnected()) || options.signal.aborted) break
      await pause(retryInMs)
    }
    return (await this.openChannel(command, options, true))()
  }

  /** Opens a channel running `command`; resolves to what streams it to its end. */
  private async openChannel(
    command: string,
    options: ExecOptions,
    forceReconnect: boolean
  ): Promise<() => Promise<ExecResult>> {
    const connection = (await this.ssh(forceReconnect)).connection
    if (!connection) throw new Error('not connected')
    return new Promise((resolve, reject) =>
      connection.exec(CHANNEL_COMMAND, (error, channel) =>
        error ? reject(error) : resolve(() => runChannel(channel, command, options))
      )
    )
  }

  async upload(localPath: string, remotePath: string): Promise<void> {
    const ssh = await this.ssh()
    if (statSync(localPath).isDirectory()) {
      const ok = await ssh.putDirectory(localPath, remotePath, { recursive: true, concurrency: 4 })
      if (!ok) throw new Error(`some files of ${localPath} could not be uploaded to ${remotePath}`)
    } else {
      await ssh.putFile(localPath, remotePath)
    }
  }

  async httpGet(url: URL, options: { timeoutMs: number; signal: AbortSignal }) {
    const connection = (await this.ssh()).connection
    if (!connection) throw new Error('not connected')
    this.http ??= new HttpOverSsh(connection)
    return this.http.get(url, options)
  }

  async close(): Promise<void> {
    this.shell?.close()
    await this.http?.close()
    this.chain.reverse().forEach((ssh) => ssh.dispose())
  }
}

/** What the shell became, or `starting` still if the command's timeout or cancellation came first. */
function settledWithin(shell: LongLivedShell, { timeoutMs, signal }: ExecOptions): Promise<ShellState> {
  return new Promise((resolve) => {
    const early = () => resolve(shell.state)
    const timer = setTimeout(early, timeoutMs)
    signal.addEventListener('abort', early, { once: true })
    void shell.settled.then((state) => {
      clearTimeout(timer)
      signal.removeEventListener('abort', early)
      resolve(state)
    })
  })
}
