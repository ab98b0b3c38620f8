// diagnose-command on a host that failed, before anything undoes the failure: what the app's log
// or journal said at the moment it failed. It only reads, so it never changes the host's outcome:
// its own failure or timeout is reported beside its output.
import { errorMessage } from '../errors.js'
import { DIAGNOSE_BYTES, LastBytes, type Diagnosis, type HostEvidence } from './evidence.js'
import { failureOf } from './run-on-host.js'
import type { StepContext } from './step-runners.js'

/**
 * Its bound, whatever command-timeout says: the host is out of rotation (and its batch waits) until
 * its rollback, which must not wait 10 minutes for a log to be read; 30 s reads any log's tail.
 */
export const DIAGNOSE_BOUND_MS = 30_000

/** diagnose-command on a failed host, once, into its evidence; not when cancelled: the runner is about to end the job. */
export async function diagnoseFailure(
  context: StepContext,
  evidence: HostEvidence,
  signal: AbortSignal
): Promise<void> {
  const command = context.settings.commands.diagnose
  if (command === undefined || signal.aborted || evidence.diagnosis) return
  evidence.diagnosis = await diagnose(context, command, evidence.mask, signal)
}

/** Runs `command` on the failed host; its output, masked, is logged in a group of its own. */
export async function diagnose(
  { host, settings, clock, log, env }: StepContext,
  command: string,
  mask: (text: string) => string,
  signal: AbortSignal
): Promise<Diagnosis> {
  const boundMs = Math.min(settings.commands.timeoutMs, DIAGNOSE_BOUND_MS)
  const { entry } = host.target
  const output = new LastBytes(DIAGNOSE_BYTES)
  log.info(`[${entry}] running diagnose-command (at most ${boundMs} ms)`)
  const started = clock.now()
  let problem: string | undefined
  try {
    const result = await host.exec(command, {
      env,
      timeoutMs: boundMs,
      signal,
      onLine: (line) => output.push(mask(line))
    })
    problem = result.timedOut ? `ended at its bound of ${boundMs} ms` : failureOf(result, boundMs, signal)
  } catch (error: unknown) {
    problem = mask(errorMessage(error))
  }
  const diagnosis = {
    problem,
    durationMs: clock.now() - started,
    output: output.text(),
    droppedBytes: output.droppedBytes
  }
  // Printed whole once it ended, so the lines of hosts failing at once do not interleave.
  await log.group(`Diagnose ${entry}: ${diagnosisHeading(diagnosis)}`, async () => {
    if (diagnosis.output !== '') for (const line of diagnosis.output.split('\n')) log.info(`[${entry}] ${line}`)
  })
  if (problem !== undefined) log.warning(`${entry}: diagnose-command ${problem}`, 'Diagnose failed')
  return diagnosis
}

/** `diagnose-command exited 0 in 120 ms (the last 65536 bytes of 80000)`, for the log and the summary. */
export function diagnosisHeading({ problem, durationMs, output, droppedBytes }: Diagnosis): string {
  const kept = Buffer.byteLength(output)
  const dropped = droppedBytes > 0 ? ` (its last ${kept} bytes of ${kept + droppedBytes})` : ''
  return `diagnose-command ${problem ?? 'exited 0'} in ${durationMs} ms${dropped}`
}
