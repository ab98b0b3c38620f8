// Waiting on evidence: poll an attempt until it says done, or the time is up. Used for the health
// check (through the SSH tunnel or a command on the host) and for the load balancer probes.
import { errorMessage } from '../errors.js'
import type { Clock } from '../ports.js'

export interface Verdict {
  readonly ok: boolean
  /** What was seen, for the log and the report: `HTTP 502`, `exit code 1`, `connection refused`. */
  readonly detail: string
}

export interface PollOptions {
  readonly clock: Clock
  readonly timeoutMs: number
  readonly intervalMs: number
  readonly signal: AbortSignal
  /** How the errors read: `cancelled while waiting for <waitingFor>`, `<failed> after N ms: <detail>`. */
  readonly waitingFor: string
  readonly failed: string
  readonly onAttempt?: (verdict: Verdict, attempt: number) => void
}

/** The time was up before an attempt said done. */
export class PollTimeout extends Error {}

/** The run was cancelled while waiting. */
export class PollCancelled extends Error {}

/** Polls `attempt` (given the time it may take) until it reports ok; throws PollTimeout or PollCancelled otherwise. */
export async function pollUntil(
  attempt: (budgetMs: number) => Promise<Verdict>,
  options: PollOptions
): Promise<Verdict> {
  const { clock, timeoutMs, intervalMs, signal } = options
  const deadline = clock.now() + timeoutMs
  let last: Verdict = { ok: false, detail: 'no attempt finished' }
  for (let count = 1; !signal.aborted; count++) {
    const started = clock.now()
    let failed = false
    const verdict = await attempt(Math.max(deadline - started, 1)).catch((error: unknown) => {
      failed = true
      return { ok: false, detail: errorMessage(error) }
    })
    options.onAttempt?.(verdict, count)
    if (verdict.ok) return verdict
    // An attempt the deadline cut short says less than the answer before it (`HTTP 503`).
    if (!(failed && clock.now() >= deadline && count > 1)) last = verdict
    const now = clock.now()
    if (now >= deadline) break
    await clock.sleep(Math.min(Math.max(started + intervalMs - now, 0), deadline - now), signal)
    if (clock.now() >= deadline) break
  }
  if (signal.aborted) throw new PollCancelled(`cancelled while waiting for ${options.waitingFor}`)
  throw new PollTimeout(`${options.failed} after ${timeoutMs} ms: ${last.detail}`)
}
