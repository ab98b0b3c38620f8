// RemoteHost over node-ssh/ssh2: host key checking before authentication, jump host chains,
// bounded connection retries, one connection per host that is re-opened if it drops, and on it
// one long-lived shell for the host's commands (remote-command.ts).
import { statSync } from 'node:fs'
import { connect } from 'node:net'
import { NodeSSH, type Config } from 'node-ssh'
import type { Client, ClientChannel } from 'ssh2'
import { HttpOverSsh } from './http-over-ssh.js'
import { checkHostKey, fingerprint, keyType } from './known-hosts.js'
import type { Clock, Connector, ExecOptions, ExecResult, Log, RemoteHost } from './ports.js'
import { RemoteShell, runChannel, type ExitStatus, type ShellState } from './remote-command.js'
import type { Settings, Target } from './settings.js'
import { killGroupScript, remoteScript } from './shell.js'

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
  return {
    connect: (target, signal) => SshRemoteHost.open(target, settings, clock, log, signal, longLivedShell)
  }
}

/** Connects through the jump-host chain, retrying connection-level errors with backoff. */
async function connectWithRetry(
  target: Target,
  settings: Settings,
  clock: Clock,
  log: Log,
  signal: AbortSignal
): Promise<NodeSSH[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectChain(target, settings)
    } catch (error: unknown) {
      const message = error instanceof Error ? error.message : String(error)
      if (error instanceof PermanentSshError || attempt >= settings.connectAttempts || signal.aborted) {
        throw error instanceof PermanentSshError ? error : new Error(`cannot connect to ${target.entry}: ${message}`)
      }
      const backoffMs = 500 * 2 ** (attempt - 1)
      log.info(`[${target.entry}] connection attempt ${attempt} failed (${message}); retrying in ${backoffMs} ms`)
      await clock.sleep(backoffMs, signal)
    }
  }
}

async function connectChain(target: Target, settings: Settings): Promise<NodeSSH[]> {
  const chain: NodeSSH[] = []
  try {
    for (const hop of [...settings.jumpHosts, target]) {
      const previous = chain.at(-1)?.connection
      const sock = previous ? await forward(previous, hop) : undefined
      chain.push(await connectOne(hop, settings, sock))
    }
    return chain
  } catch (error: unknown) {
    chain.forEach((ssh) => ssh.dispose())
    throw error
  }
}

function forward(connection: NonNullable<NodeSSH['connection']>, hop: Target): Promise<ClientChannel> {
  return new Promise((resolve, reject) =>
    connection.forwardOut('127.0.0.1', 0, hop.host, hop.port, (error, channel) =>
      error ? reject(new Error(`jump host cannot reach ${hop.entry}: ${error.message}`)) : resolve(channel)
    )
  )
}

async function connectOne(hop: Target, settings: Settings, through: ClientChannel | undefined): Promise<NodeSSH> {
  let refusal: string | undefined
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
    sock,
    hostVerifier: (key: Buffer) => {
      refusal = verifyHostKey(hop, key, settings.hostKeys)
      return refusal === undefined
    }
  }
  try {
    return await new NodeSSH().connect(config)
  } catch (error: unknown) {
    sock.destroy()
    if (refusal !== undefined) throw new PermanentSshError(refusal)
    const message = error instanceof Error ? error.message : String(error)
    if (/authentication methods failed/i.test(message)) {
      throw new PermanentSshError(
        `authentication as ${hop.user} on ${hop.entry} failed: check private-key/password and the host's authorized_keys`
      )
    }
    throw error
  }
}

/** undefined when the key is accepted; otherwise why it is refused (before any authentication). */
export function verifyHostKey(hop: Target, key: Buffer, hostKeys: Settings['hostKeys']): string | undefined {
  if (!hostKeys.strict) return undefined
  const verdict = hostKeys.knownHosts ? checkHostKey(hostKeys.knownHosts, hop.host, hop.port, key) : 'unknown'
  if (verdict === 'trusted' || hostKeys.fingerprints.includes(fingerprint(key))) return undefined
  const offered = `${keyType(key)} key ${fingerprint(key)}`
  const why = {
    mismatch: 'does not match known-hosts (the host key changed, or something is in the middle)',
    revoked: 'is marked @revoked in known-hosts',
    unknown: 'is in neither known-hosts nor host-fingerprints'
  }[verdict]
  return `host key refused for ${hop.entry}: its ${offered} ${why}`
}

class SshRemoteHost implements RemoteHost {
  private http?: HttpOverSsh
  /** Where commands run once it is ready: one long-lived shell on the current connection. */
  private shell?: RemoteShell

  private constructor(
    readonly target: Target,
    private chain: NodeSSH[],
    private readonly reconnect: () => Promise<NodeSSH[]>,
    private readonly log: Log,
    private useShell: boolean
  ) {}

  static async open(
    target: Target,
    settings: Settings,
    clock: Clock,
    log: Log,
    signal: AbortSignal,
    longLivedShell: boolean
  ): Promise<RemoteHost> {
    const reconnect = () => connectWithRetry(target, settings, clock, log, signal)
    return new SshRemoteHost(target, await reconnect(), reconnect, log, longLivedShell)
  }

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
      this.shell = new RemoteShell(connection)
    }
    const { shell } = this
    const inShell = () => shell.run(command, options, (pgid) => killGroup(connection, pgid))
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
    // A connection that died unnoticed fails the channel open; the command never started, so
    // one fresh connection may run it.
    const onChannel = await this.openChannel(command, options, false).catch(() =>
      this.openChannel(command, options, true)
    )
    return onChannel()
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
      connection.exec(remoteScript(command, options.env), (error, channel) => {
        if (error) return reject(error)
        // A quick command's exit status can come in the same read as the channel's opening,
        // before anything awaiting this promise could listen: record it now. (Its output waits
        // in the stream's buffer.)
        const exit: ExitStatus = { code: null }
        channel.on('exit', (code: number | null) => (exit.code = code))
        resolve(() => runChannel(channel, exit, options, (pgid) => killGroup(connection, pgid)))
      })
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

/** Ends a command's process group, on a channel of its own (the command's own may be busy or gone). */
function killGroup(connection: Client, pgid: number): void {
  connection.exec(killGroupScript(pgid), (error, stream) =>
    error ? undefined : stream.resume().on('close', () => undefined)
  )
}

/** What the shell became, or `starting` still if the command's timeout or cancellation came first. */
function settledWithin(shell: RemoteShell, { timeoutMs, signal }: ExecOptions): Promise<ShellState> {
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
