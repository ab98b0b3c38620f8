// RemoteHost over node-ssh/ssh2: one connection per host (opened by connect.ts), re-opened if it
// drops or was parked (pool.ts closes an idle host's connection when max-connections needs its
// slots), and on it one long-lived shell for the host's commands (long-lived-shell.ts), or a
// channel per command where that shell cannot run (remote-command.ts). Every use goes through
// the pool, which never parks a host while a use of it is under way.
import { setTimeout as pause } from 'node:timers/promises'
import type { NodeSSH } from 'node-ssh'
import { forwardingRefused, HttpOverSsh } from './http-over-ssh.js'
import { closeChain, connectWithRetry, lostBecause, type AcceptedKeyTypes } from './connect.js'
import type { Clock, Connector, ExecOptions, ExecResult, Log, RemoteHost, SocketOptions } from '../ports.js'
import { ConnectionPool, type PoolMember } from './pool.js'
import { LongLivedShell, settledWithin } from './long-lived-shell.js'
import { runChannel } from './remote-command.js'
import { askStreamLocal } from './stream-local.js'
import { unpackInto, uploadPath } from './upload.js'
import { CHANNEL_COMMAND } from './remote-scripts.js'
import type { SshSettings, Target } from '../inputs/settings.js'

export interface ConnectorOptions {
  /** Run commands in one long-lived shell per host where it can (the default), or each on a channel of its own. */
  readonly longLivedShell?: boolean
  /** Handshakes under way at most (the pool's default otherwise). */
  readonly maxStarts?: number
}

export function createSshConnector(
  settings: SshSettings,
  clock: Clock,
  log: Log,
  { longLivedShell = true, maxStarts }: ConnectorOptions = {}
): Connector {
  const accepted: AcceptedKeyTypes = new Map()
  const pool = new ConnectionPool(settings.maxConnections, maxStarts)
  const context = { settings, accepted, pool, clock, log }
  return {
    async connect(target, signal) {
      const hostKey = () => accepted.get(target.entry)?.described
      const reconnect = () => connectWithRetry(target, context, signal)
      const hops = settings.jumpHosts.length + 1
      const host = new SshRemoteHost(target, reconnect, log, longLivedShell, hostKey, pool, hops)
      // Never connected: its slots go back at once.
      const gone = (error: unknown) => pool.leave(host, Promise.resolve()).then(() => Promise.reject(error))
      await pool.use(host, () => host.ssh()).catch(gone)
      return host
    },
    connections: () => ({ ...pool.counts })
  }
}

class SshRemoteHost implements RemoteHost, PoolMember {
  private chain: NodeSSH[] = []
  /** Whether the pool closed its connection (not lost): it reconnects without saying so. */
  private parkedByPool = true
  private http?: HttpOverSsh
  /** Where commands run once it is ready: one long-lived shell on the current connection. */
  private shell?: LongLivedShell
  /** A sideline command running in the shell: the host's next command waits for it (it is short). */
  private beside?: Promise<unknown>
  /** The host's own commands under way: a sideline command never reconnects under them. */
  private ownCommands = 0
  /** A reconnection under way, which every use that finds the connection gone awaits. */
  private reopening?: Promise<void>

  constructor(
    readonly target: Target,
    private readonly reconnect: () => Promise<NodeSSH[]>,
    private readonly log: Log,
    private useShell: boolean,
    private readonly acceptedKey: () => string | undefined,
    private readonly pool: ConnectionPool,
    /** Its chain's SSH connections: one per jump host, and its own. */
    readonly hops: number
  ) {}

  get hostKey(): string | undefined {
    return this.acceptedKey()
  }

  get parked(): boolean {
    return this.pool.parked(this)
  }

  /** Whether every hop of the chain is still up. */
  private get connected(): boolean {
    return this.chain.length > 0 && this.chain.every((ssh) => ssh.isConnected())
  }

  async park(): Promise<void> {
    this.parkedByPool = true
    this.shell?.close()
    await this.http?.close()
    this.http = undefined
    await closeChain(this.chain)
  }

  /** The target's connection, re-opened first if it dropped (or was parked) since the last use. */
  async ssh(forceReconnect = false): Promise<NodeSSH> {
    if ((forceReconnect || !this.connected) && this.reopening === undefined) {
      this.reopening = this.reopen().finally(() => (this.reopening = undefined))
    }
    await this.reopening
    return this.chain[this.chain.length - 1]
  }

  private async reopen(): Promise<void> {
    if (!this.parkedByPool)
      this.log.info(`[${this.target.entry}] the SSH connection was lost (${lostBecause(this.chain)}); reconnecting`)
    await this.http?.close()
    this.http = undefined
    await closeChain(this.chain)
    this.chain = await this.reconnect()
    this.parkedByPool = false
  }

  exec(command: string, options: ExecOptions): Promise<ExecResult> {
    return this.pool.use(this, () => this.execHere(command, options))
  }

  private async execHere(command: string, options: ExecOptions): Promise<ExecResult> {
    if (options.sideline) return this.execBeside(command, options)
    await this.beside
    this.ownCommands++
    const result = await this.execSomewhere(command, options).finally(() => this.ownCommands--)
    // No exit status, and neither its timeout nor a cancellation ended it: its connection went.
    if (result.code !== null || result.timedOut || options.signal.aborted) return result
    return { ...result, lost: lostBecause(this.chain) }
  }

  /** The command in the host's long-lived shell, or on a channel of its own where it cannot be. */
  private async execSomewhere(command: string, options: ExecOptions): Promise<ExecResult> {
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
      // The first command (or the first after a reconnect) waits for the shell, a round trip more,
      // rather than take a channel of its own: each session costs the host a process of sshd's and
      // two shells, which a fleet reconnected pass after pass (max-connections) pays per pass.
      const state = await settledWithin(shell, options)
      if (state === 'starting') return { code: null, timedOut: !options.signal.aborted }
      if (state === 'ready' && shell.available) return inShell()
    }
    // Busy (never, in a rollout), or refused: a channel of its own. Refused means no setsid, or a
    // forced command in the way: channels from now on.
    if (shell.state === 'refused' && this.connected) this.useShell = false
    return this.execOnChannel(command, options)
  }

  /**
   * A sideline command: in the shell if it is free, else on a channel if one opens now. It
   * reconnects only a host waiting its turn: under a command of the host's own, the connection is
   * that command's to reopen and look at again; but a waiting host whose connection dropped would
   * otherwise beat no more until its turn, and its lock would look dead to the next run.
   */
  private async execBeside(command: string, options: ExecOptions): Promise<ExecResult> {
    // A parked host its own command is connecting again: the beat goes on the new connection
    // rather than failing because it came a moment early.
    if (!this.connected && this.ownCommands > 0 && this.parkedByPool) await this.reopening?.catch(() => undefined)
    const { shell } = this
    if (!this.connected) {
      if (this.ownCommands > 0) return { code: null, timedOut: false }
      const run = this.execSomewhere(command, options)
      this.beside = run.catch(() => undefined)
      return run
    }
    if (shell?.available && shell.connection === this.chain[this.chain.length - 1].connection) {
      const run = shell.run(command, options)
      this.beside = run.catch(() => undefined)
      return run
    }
    const onChannel = await this.openChannel(command, options, false).catch(() => undefined)
    return onChannel ? onChannel() : { code: null, timedOut: false }
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
      if (retryInMs > 320 || !this.connected || options.signal.aborted) break
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

  /** The live ssh2 client of the target (for a channel of a kind of its own). */
  private async connection() {
    const { connection } = await this.ssh()
    if (!connection) throw new Error('not connected')
    return connection
  }

  upload(localPath: string, remotePath: string): Promise<void> {
    return this.pool.use(this, async () => uploadPath(await this.connection(), localPath, remotePath))
  }

  unpack(localArchive: string, remoteDir: string): Promise<void> {
    return this.pool.use(this, async () => unpackInto(await this.connection(), localArchive, remoteDir))
  }

  httpGet(url: URL, options: { timeoutMs: number; signal: AbortSignal }) {
    return this.pool.use(this, async () => {
      const connection = await this.connection()
      this.http ??= new HttpOverSsh(connection)
      return this.http.get(url, options)
    })
  }

  tunnelRefused(url: URL): Promise<string | undefined> {
    return this.pool.use(this, async () => forwardingRefused(await this.connection(), url))
  }

  askSocket(path: string, request: string, options: SocketOptions) {
    return this.pool.use(this, async () => askStreamLocal(await this.connection(), path, request, options))
  }

  async close(): Promise<void> {
    await this.pool.leave(this, this.park())
  }
}
