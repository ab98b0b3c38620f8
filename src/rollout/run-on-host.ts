// Running a command on a host and judging how it ended: one place for the words a failure gets,
// for the steps of a host and for the action's own fleet-wide scripts (release state, the
// preparation, the lock).
import type { Settings } from '../inputs/settings.js'
import { NEVER_ABORTED, type ExecResult, type Log, type RemoteHost } from '../ports.js'

/** Why a command did not succeed, in the words the report uses; undefined if it did. */
export function failureOf(result: ExecResult, timeoutMs: number, signal: AbortSignal): string | undefined {
  if (result.timedOut) return `timed out after ${timeoutMs} ms`
  if (signal.aborted && result.code !== 0) return 'cancelled'
  if (result.lost !== undefined) return `connection lost (${result.lost})`
  if (result.code === null) return 'ended without an exit status'
  if (result.code !== 0) return `exited with code ${result.code}`
  return undefined
}

/** A command's connection was lost while it ran: what it did on the host is unknown. */
export class ConnectionLost extends Error {
  constructor(
    readonly why: string,
    /** Its process group on the host, where it may still run. */
    readonly group?: number
  ) {
    super(`connection lost (${why})`)
  }
}

export function throwIfFailed(result: ExecResult, timeoutMs: number, signal: AbortSignal): void {
  const failure = failureOf(result, timeoutMs, signal)
  if (failure === undefined) return
  throw result.lost !== undefined && !signal.aborted
    ? new ConnectionLost(result.lost, result.group)
    : new Error(failure)
}

/**
 * One of the action's own scripts, run to its end (unless `signal` is given and aborts: a user's
 * prepare-command): how it ended and every line.
 */
export async function runToEnd(
  host: RemoteHost,
  script: string,
  {
    env = [],
    timeoutMs,
    onLine,
    signal = NEVER_ABORTED,
    sideline,
    quick
  }: {
    env?: readonly (readonly [string, string])[]
    timeoutMs: number
    onLine?: (line: string) => void
    signal?: AbortSignal
    sideline?: boolean
    /** One of the action's own short scripts: ExecOptions.quick. */
    quick?: boolean
  }
): Promise<{ result: ExecResult; lines: string[] }> {
  const lines: string[] = []
  const result = await host.exec(script, {
    env,
    timeoutMs,
    signal,
    sideline,
    quick,
    onLine: (line) => {
      lines.push(line)
      onLine?.(line)
    }
  })
  return { result, lines }
}

/**
 * Runs one of the action's own scripts on a host (release mode's, by default with the env input),
 * each line logged; cancelled only if `signal` is given. Throws with its last line if it fails.
 */
export async function runScript(
  host: RemoteHost,
  script: string,
  settings: Settings,
  log: Log,
  {
    env = settings.env,
    signal = NEVER_ABORTED
  }: { env?: readonly (readonly [string, string])[]; signal?: AbortSignal } = {}
) {
  const { timeoutMs } = settings.commands
  const { result, lines } = await runToEnd(host, script, {
    env,
    timeoutMs,
    signal,
    onLine: (line) => log.info(`[${host.target.entry}] ${line}`)
  })
  const failure = failureOf(result, timeoutMs, signal)
  if (failure !== undefined) throw new Error(lines.length > 0 ? `${failure}: ${lines.at(-1)}` : failure)
}
