// Running one command on a host over an open SSH connection, two ways with the same results:
// - a long-lived `sh` per host (long-lived-shell.ts), fed one command at a time: a command then costs one
//   round trip, where a channel of its own costs two (open it, then the exec request, whose reply
//   ssh2 awaits), which on a runner far from its hosts is most of a small command's time;
// - a channel of its own (runChannel): the fallback where that shell cannot run (no `setsid`, a
//   forced command), and a sideline command (a lock's beat) while the shell runs another.
// Either way the command reaches an `sh -s` on its input, never in a process's arguments, and can
// be ended through the same session (remote-scripts.ts). Ending it on timeout or cancellation ends
// its process group and nothing else: not the shell, and not an app that an earlier command
// started. And either way a command has ended only when it exited and nothing holds its output any
// more: an app started without redirecting its output makes its start command time out (and be
// ended), as a channel would, instead of dying later of a closed pipe.
import type { ClientChannel } from 'ssh2'
import type { ExecOptions, ExecResult, Stream } from '../ports.js'
import { commandScript, killGroupLine, nonce, onChannel, PGID_MARKER } from './remote-scripts.js'

/** How long a command being ended may take to go: killGroupLine needs 1 s for TERM, then KILL. */
const CLOSE_GRACE_MS = 3000

export const STREAMS: readonly Stream[] = ['stdout', 'stderr']
const PGID_LINE = new RegExp(`^${PGID_MARKER} (\\d+)$`)

/**
 * The timeout and cancellation of one command: on either, its process group (reported by the
 * script's first stderr line) is ended; if it cannot be, the command is given up after a grace
 * period, so a host is reported (timed out or cancelled) rather than waited on forever.
 */
export class Ending {
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

  /**
   * How the command ended. Without an exit status and not ended here (its connection was lost), its
   * process group goes with it: the command may still be running on the host.
   */
  result(code: number | null): ExecResult {
    if (this.timedOut) return { code: null, timedOut: true }
    const group = code === null && !this.ended ? this.pgid : undefined
    return group === undefined ? { code, timedOut: false } : { code, timedOut: false, group }
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
export function commandLines(
  ending: Ending,
  endMarker: string,
  options: ExecOptions,
  onEnd: (code: number | null) => void
) {
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
      resolve(ending.result(code))
    })
    channel.write(onChannel(commandScript(command, options.env, options.groupFile), endMarker))
  })
}

export function lineSplitter(emit: (line: string) => void) {
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
