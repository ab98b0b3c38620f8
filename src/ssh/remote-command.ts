// Running one command on a host over an open SSH connection, two ways with the same results:
// - a long-lived `sh` per host (LongLivedShell), fed one command at a time: a command then costs one
//   round trip, where a channel of its own costs two (open it, then the exec request, whose reply
//   ssh2 awaits), which on a runner far from its hosts is most of a small command's time;
// - a channel of its own (runChannel): the fallback where that shell cannot run (no `setsid`, a
//   forced command), and a host's first command while its shell starts.
// Either way the command reaches an `sh -s` on its input, never in a process's arguments, and can
// be ended through the same session (remote-scripts.ts). Ending it on timeout or cancellation ends
// its process group and nothing else: not the shell, and not an app that an earlier command
// started. And either way a command has ended only when it exited and nothing holds its output any
// more: an app started without redirecting its output makes its start command time out (and be
// ended), as a channel would, instead of dying later of a closed pipe.
import type { Client, ClientChannel } from 'ssh2'
import type { ExecOptions, ExecResult, Stream } from '../ports.js'
import {
  CHANNEL_COMMAND,
  commandScript,
  inShell,
  killGroupLine,
  nonce,
  onChannel,
  PGID_MARKER,
  shellStart
} from './remote-scripts.js'

/** How long a command being ended may take to go: killGroupLine needs 1 s for TERM, then KILL. */
const CLOSE_GRACE_MS = 3000

const STREAMS: readonly Stream[] = ['stdout', 'stderr']
const PGID_LINE = new RegExp(`^${PGID_MARKER} (\\d+)$`)

/**
 * The timeout and cancellation of one command: on either, its process group (reported by the
 * script's first stderr line) is ended; if it cannot be, the command is given up after a grace
 * period, so a host is reported (timed out or cancelled) rather than waited on forever.
 */
class Ending {
  timedOut = false
  private pgid?: number
  private ended = false
  private readonly timer: NodeJS.Timeout
  private giveUp?: NodeJS.Timeout
  private readonly end = () => {
    this.ended = true
    if (this.pgid !== undefined) this.kill(this.pgid)
    this.giveUp ??= setTimeout(this.abandon, CLOSE_GRACE_MS)
  }

  constructor(
    private readonly options: ExecOptions,
    /** Ends a process group, through the session the command runs in. */
    private readonly kill: (pgid: number) => void,
    /** The grace period is over and the command is still there. */
    private readonly abandon: () => void
  ) {
    this.timer = setTimeout(() => {
      this.timedOut = true
      this.end()
    }, options.timeoutMs)
    options.signal.addEventListener('abort', this.end, { once: true })
    if (options.signal.aborted) queueMicrotask(this.end)
  }

  /** True if `line` was the script's process-group marker (not output). */
  takeMarker(line: string): boolean {
    const marker = this.pgid === undefined ? PGID_LINE.exec(line) : null
    if (!marker) return false
    this.pgid = Number(marker[1])
    if (this.ended) this.kill(this.pgid) // the end came before the marker
    return true
  }

  dispose(): void {
    clearTimeout(this.timer)
    clearTimeout(this.giveUp)
    this.options.signal.removeEventListener('abort', this.end)
  }
}

/**
 * Reads a command's output lines: the process-group marker goes to `ending`, the line after
 * `endMarker` gives the exit status (to `onEnd`), the rest is the command's output. A last line
 * without a newline arrives glued to the end marker.
 */
function commandLines(ending: Ending, endMarker: string, options: ExecOptions, onEnd: (code: number | null) => void) {
  const endLine = new RegExp(`^(.*)${endMarker} (\\d*)$`)
  return (line: string, stream: Stream) => {
    if (ending.takeMarker(line)) return
    const end = stream === 'stdout' ? endLine.exec(line) : null
    if (!end) return options.onLine(line, stream)
    if (end[1] !== '') options.onLine(end[1], stream)
    onEnd(end[2] === '' ? null : Number(end[2]))
  }
}

/**
 * Runs `command` on `channel`, which runs CHANNEL_COMMAND, to the channel's close: the script goes
 * in on its input, which is ended once the exit status came.
 */
export function runChannel(channel: ClientChannel, command: string, options: ExecOptions): Promise<ExecResult> {
  return new Promise((resolve) => {
    let code: number | null = null
    const ending = new Ending(
      options,
      (pgid) => channel.write(killGroupLine(pgid)),
      () => {
        channel.close()
        channel.emit('close')
      }
    )
    const endMarker = nonce('end')
    const onLine = commandLines(ending, endMarker, options, (status) => {
      code = status
      channel.end()
    })
    const splitters = STREAMS.map((stream) => lineSplitter((line) => onLine(line, stream)))
    channel.on('data', (chunk: Buffer) => splitters[0].push(chunk))
    channel.stderr.on('data', (chunk: Buffer) => splitters[1].push(chunk))
    channel.once('close', () => {
      ending.dispose()
      splitters.forEach((splitter) => splitter.flush())
      resolve({ code: ending.timedOut ? null : code, timedOut: ending.timedOut })
    })
    channel.write(onChannel(commandScript(command, options.env), endMarker))
  })
}

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
 * shell prints the exit status after a random nonce that the command's output cannot guess.
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
          resolve({ code: ending.timedOut ? null : code, timedOut: ending.timedOut })
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
        channel.write(inShell(commandScript(command, options.env), this.setsid, endMarker))
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
    const channel = await new Promise<ClientChannel | undefined>((resolve) =>
      this.connection.exec(CHANNEL_COMMAND, (error, opened) => resolve(error ? undefined : opened))
    )
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

function lineSplitter(emit: (line: string) => void) {
  let pending = ''
  return {
    push(chunk: Buffer) {
      const lines = (pending + chunk.toString('utf8')).split(/\r?\n/)
      pending = lines.pop() ?? ''
      lines.forEach(emit)
    },
    flush() {
      if (pending !== '') emit(pending)
      pending = ''
    }
  }
}
