// One long-lived `sh` per host, fed one command at a time on its input: a command then costs one
// round trip, where a channel of its own costs two. Each command runs as remote-command.ts's
// channel would run it: the action's script in a session of its own (setsid), ended through
// this same shell on timeout or cancellation, done once nothing holds its output.
import type { Client, ClientChannel } from 'ssh2'
import type { ExecOptions, ExecResult, Stream } from '../ports.js'
import { commandLines, Ending, lineSplitter, STREAMS } from './remote-command.js'
import {
  CHANNEL_COMMAND,
  commandScript,
  inShell,
  killGroupLine,
  nonce,
  quickInShell,
  shellStart
} from './remote-scripts.js'

/** What the shell's output lines are for at the moment. */
interface Listener {
  line(line: string, stream: Stream): void
  gone(): void
}

/**
 * `starting` until the shell answered; then `ready`, or `refused` (it cannot run commands here: no
 * `setsid`, or a forced command in the way), or `failed` (its channel did not open: the connection
 * may be gone); `closed` once it ended or was given up.
 */
export type ShellState = 'starting' | 'ready' | 'refused' | 'failed' | 'closed'

/**
 * One `sh` on one channel of the host's connection, fed commands on its input. Each runs in a
 * session of its own with its output (stderr merged into stdout, in order) piped through `cat` to
 * the channel, so that the shell goes on only once nothing holds that output any more; then the
 * shell prints the exit status after a random nonce that the command's output cannot guess. A
 * quick script (ExecOptions.quick) is run by the shell itself, in a subshell.
 */
export class LongLivedShell {
  private current: ShellState = 'starting'
  /** Resolves once the shell is no longer `starting`, with what it became. */
  readonly settled: Promise<ShellState>
  private settle: (state: ShellState) => void = () => undefined
  /** How the shell starts a command in a session of its own, as it answered shellStart. */
  private setsid = 'setsid'
  private channel?: ClientChannel
  private listener?: Listener
  private running = false

  /** Starts the shell; it takes commands once `state` is `ready`. */
  constructor(readonly connection: Client) {
    this.settled = new Promise((resolve) => (this.settle = resolve))
    void this.start()
  }

  get state(): ShellState {
    return this.current
  }

  /** Ready and not running a command: the shell runs one at a time. */
  get available(): boolean {
    return this.current === 'ready' && !this.running
  }

  /** Runs `command` as runChannel would; only when `available`. */
  async run(command: string, options: ExecOptions): Promise<ExecResult> {
    const { channel } = this
    if (!this.available || !channel) throw new Error(`the shell is not available (${this.current})`)
    this.running = true
    try {
      return await new Promise((resolve) => {
        let code: number | null = null
        let finished = false
        const done = () => {
          if (finished) return
          finished = true
          ending.dispose()
          this.listener = undefined
          resolve(ending.result(code))
        }
        // The kill is enough: the shell answers once the command is gone.
        const ending = new Ending(
          options,
          (pgid) => channel.write(killGroupLine(pgid)),
          () => {
            this.close()
            done()
          }
        )
        const endMarker = nonce('end')
        const line = commandLines(ending, endMarker, options, (status) => {
          code = status
          done()
        })
        this.listener = { line, gone: done }
        channel.write(
          options.quick
            ? quickInShell(command, options.env, endMarker)
            : inShell(commandScript(command, options.env, options.groupFile), this.setsid, endMarker)
        )
      })
    } finally {
      this.running = false
    }
  }

  close(): void {
    this.become('closed')
    this.channel?.close()
  }

  private become(state: ShellState): void {
    if (this.current === 'starting') this.settle(state)
    this.current = state
  }

  private async start(): Promise<void> {
    // `sh` whatever the login shell is; a forced command may put something else there.
    // ssh2 throws rather than calls back when the connection went since the host last looked.
    const channel = await new Promise<ClientChannel | undefined>((resolve) => {
      try {
        this.connection.exec(CHANNEL_COMMAND, (error, opened) => resolve(error ? undefined : opened))
      } catch {
        resolve(undefined)
      }
    })
    if (!channel || this.current === 'closed') {
      channel?.close()
      if (this.current !== 'closed') this.become('failed')
      return
    }
    this.channel = channel
    const splitters = STREAMS.map((stream) => lineSplitter((line) => this.listener?.line(line, stream)))
    channel.on('data', (chunk: Buffer) => splitters[0].push(chunk))
    channel.stderr.on('data', (chunk: Buffer) => splitters[1].push(chunk))
    channel.once('close', () => {
      splitters.forEach((splitter) => splitter.flush())
      // Gone before it answered (a forced command runs there), or answered it has no setsid:
      // refused once its channel is gone, so that a host allowing one session at a time can open
      // the next. Once refused or failed, it stays so: the host then knows to use channels.
      if (this.current === 'starting') this.become('refused')
      else if (this.current === 'ready') this.become('closed')
      this.listener?.gone()
    })
    const readyMarker = nonce('ready')
    this.listener = {
      line: (line, stream) => {
        if (stream !== 'stdout' || !line.startsWith(`${readyMarker} `) || this.current !== 'starting') return
        const setsid = line.slice(readyMarker.length + 1)
        this.listener = undefined
        if (setsid.startsWith('setsid')) {
          this.setsid = setsid
          this.become('ready')
        } else {
          this.channel?.close()
        }
      },
      gone: () => undefined
    }
    channel.write(shellStart(readyMarker))
  }
}

/** What the shell became, or `starting` still if the command's timeout or cancellation came first. */
export function settledWithin(shell: LongLivedShell, { timeoutMs, signal }: ExecOptions): Promise<ShellState> {
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
