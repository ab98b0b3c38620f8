// Running one command on a host over an open SSH connection, two ways with the same results:
// - a long-lived `sh` per host (RemoteShell), fed one command at a time: a command then costs one
//   round trip, where a channel of its own costs two (open it, then the exec request, whose reply
//   ssh2 awaits), which on a runner far from its hosts is most of a small command's time;
// - a channel of its own (runChannel): the fallback where that shell cannot run (no `setsid`, a
//   forced command), and for ending a command.
// Either way the command is the action's script (remoteScript) in a session of its own, so ending
// it on timeout or cancellation ends its process group and nothing else: not the shell, and not an
// app that an earlier command started. And either way a command has ended only when it exited and
// nothing holds its output any more: an app started without redirecting its output makes its start
// command time out (and be ended), as a channel would, instead of dying later of a closed pipe.
import { randomBytes } from 'node:crypto'
import type { Client, ClientChannel } from 'ssh2'
import type { ExecOptions, ExecResult, Stream } from './ports.js'
import { PGID_MARKER, remoteScript } from './shell.js'

/** How long a command being ended may take to go: killGroupScript needs 1 s for TERM, then KILL. */
const CLOSE_GRACE_MS = 3000

const STREAMS: readonly Stream[] = ['stdout', 'stderr']
const PGID_LINE = new RegExp(`^${PGID_MARKER} (\\d+)$`)

/** Ends a remote process group (TERM, then KILL), on a channel of its own. */
export type KillGroup = (pgid: number) => void

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
    this.onEnd()
    this.giveUp ??= setTimeout(this.abandon, CLOSE_GRACE_MS)
  }

  constructor(
    private readonly options: ExecOptions,
    private readonly kill: KillGroup,
    /** Right after the kill was sent: e.g. close the command's channel. */
    private readonly onEnd: () => void,
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

export interface ExitStatus {
  code: number | null
}

/** Runs the script that opened `channel` (exit status recorded in `exit`), to its close. */
export function runChannel(
  channel: ClientChannel,
  exit: ExitStatus,
  options: ExecOptions,
  kill: KillGroup
): Promise<ExecResult> {
  return new Promise((resolve) => {
    // A remote process does not die when its channel closes: the kill comes first, and sshd only
    // confirms the close once the command is gone.
    const ending = new Ending(
      options,
      kill,
      () => channel.close(),
      () => channel.emit('close')
    )
    const splitters = STREAMS.map((stream) =>
      lineSplitter((line) => {
        if (!ending.takeMarker(line)) options.onLine(line, stream)
      })
    )
    channel.on('data', (chunk: Buffer) => splitters[0].push(chunk))
    channel.stderr.on('data', (chunk: Buffer) => splitters[1].push(chunk))
    channel.once('close', () => {
      ending.dispose()
      splitters.forEach((splitter) => splitter.flush())
      resolve({ code: ending.timedOut ? null : exit.code, timedOut: ending.timedOut })
    })
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
export class RemoteShell {
  private current: ShellState = 'starting'
  /** Resolves once the shell is no longer `starting`, with what it became. */
  readonly settled: Promise<ShellState>
  private settle: (state: ShellState) => void = () => undefined
  /**
   * How the shell starts a command in a session of its own. `setsid -w` (util-linux) waits even
   * if setsid had to fork; busybox's has no -w and, like util-linux's, forks only for a process
   * group leader, which a job of a shell without job control never is.
   */
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
  async run(command: string, options: ExecOptions, kill: KillGroup): Promise<ExecResult> {
    if (!this.available) throw new Error(`the shell is not available (${this.current})`)
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
        const ending = new Ending(
          options,
          kill,
          () => undefined, // the kill is enough: the shell answers once the command is gone
          () => {
            this.close()
            done()
          }
        )
        const nonce = `__rollout_end_${randomBytes(8).toString('hex')}`
        const endLine = new RegExp(`^(.*)${nonce} (\\d*)$`)
        this.listener = {
          line: (line, stream) => {
            if (ending.takeMarker(line)) return
            const end = stream === 'stdout' ? endLine.exec(line) : null
            if (!end) return options.onLine(line, stream)
            // A last line without a newline arrives glued to the marker.
            if (end[1] !== '') options.onLine(end[1], stream)
            if (end[2] !== '') code = Number(end[2])
            done()
          },
          gone: done
        }
        // fd 4 is the channel's stdout (see start); fd 5 carries the exit status out of the
        // pipeline, and is open in `cat` too, so `$(...)` ends only when `cat` does. The command
        // gets neither.
        const script = remoteScript(command, options.env)
        this.channel?.write(
          `s=$( { { ${this.setsid} ${script} </dev/null 2>&1 4>&- 5>&-; echo $? >&5; } | cat >&4; } 5>&1 ); echo "${nonce} $s"\n`
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
    // `exec sh` whatever the login shell is; a forced command may put something else there.
    const channel = await new Promise<ClientChannel | undefined>((resolve) =>
      this.connection.exec('exec sh', (error, opened) => resolve(error ? undefined : opened))
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
      // Gone before it answered: something else runs there (a forced command). Once refused or
      // failed, it stays so: the host then knows to use channels.
      if (this.current === 'starting') this.become('refused')
      else if (this.current === 'ready') this.become('closed')
      this.listener?.gone()
    })
    const nonce = `__rollout_ready_${randomBytes(8).toString('hex')}`
    this.listener = {
      line: (line, stream) => {
        if (stream !== 'stdout' || !line.startsWith(`${nonce} `) || this.current !== 'starting') return
        const setsid = line.slice(nonce.length + 1)
        this.listener = undefined
        if (setsid.startsWith('setsid')) {
          this.setsid = setsid
          this.become('ready')
        } else {
          this.become('refused')
          this.channel?.close()
        }
      },
      gone: () => undefined
    }
    channel.write(
      `exec 4>&1; if setsid -w true 2>/dev/null; then echo "${nonce} setsid -w"; elif command -v setsid >/dev/null; then echo "${nonce} setsid"; else echo "${nonce} none"; fi\n`
    )
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
