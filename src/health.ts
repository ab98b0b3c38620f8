// The health check: poll until the host proves it serves the new release, or the time is up.
// Which request it makes comes from outside (HTTP through the SSH tunnel, or a command on the host).
import type { StatusRange } from './parse.js'
import type { Clock, HttpResponse } from './ports.js'

export interface Verdict {
  readonly healthy: boolean
  /** What was seen, for the log and the report: `HTTP 502`, `exit code 1`, `connection refused`. */
  readonly detail: string
}

export function judgeResponse(
  response: HttpResponse,
  statuses: readonly StatusRange[],
  body: RegExp | undefined
): Verdict {
  const statusOk = statuses.some(({ from, to }) => response.status >= from && response.status <= to)
  if (!statusOk) return { healthy: false, detail: `HTTP ${response.status}` }
  if (body && !body.test(response.body)) {
    const excerpt = response.body.slice(0, 80).replace(/\s+/g, ' ')
    return { healthy: false, detail: `HTTP ${response.status} but the body did not match ${body} (got '${excerpt}')` }
  }
  return { healthy: true, detail: `HTTP ${response.status}` }
}

export interface PollOptions {
  readonly clock: Clock
  readonly timeoutMs: number
  readonly intervalMs: number
  readonly signal: AbortSignal
  readonly onAttempt?: (verdict: Verdict, attempt: number) => void
}

export class HealthTimeout extends Error {}

/** Polls `attempt` (given the time it may take) until it reports healthy; throws HealthTimeout otherwise. */
export async function waitUntilHealthy(
  attempt: (budgetMs: number) => Promise<Verdict>,
  options: PollOptions
): Promise<Verdict> {
  const { clock, timeoutMs, intervalMs, signal } = options
  const deadline = clock.now() + timeoutMs
  let last: Verdict = { healthy: false, detail: 'no attempt finished' }
  for (let count = 1; !signal.aborted; count++) {
    const started = clock.now()
    let failed = false
    const verdict = await attempt(Math.max(deadline - started, 1)).catch((error: unknown) => {
      failed = true
      return { healthy: false, detail: error instanceof Error ? error.message : String(error) }
    })
    options.onAttempt?.(verdict, count)
    if (verdict.healthy) return verdict
    // An attempt the deadline cut short says less than the answer before it (`HTTP 503`).
    if (!(failed && clock.now() >= deadline && count > 1)) last = verdict
    const now = clock.now()
    if (now >= deadline) break
    await clock.sleep(Math.min(Math.max(started + intervalMs - now, 0), deadline - now), signal)
    if (clock.now() >= deadline) break
  }
  if (signal.aborted) throw new HealthTimeout('cancelled while waiting for the health check')
  throw new HealthTimeout(`not healthy after ${timeoutMs} ms: ${last.detail}`)
}
