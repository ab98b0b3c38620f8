// After a connection lost in the middle of a step, what that step did on the host is unknown: it
// may not have started, may have finished, or may still be running there. So the host is looked at
// again (reconnecting, its host key checked again) before the failure policy decides anything:
// once the command is over there (awaited, as its timeout allows), is the host in rotation, and is
// it healthy? Only a host proven healthy is put back; nothing races a command still running.
import { errorMessage } from '../errors.js'
import { NEVER_ABORTED } from '../ports.js'
import { awaitGroup, NOTHING } from '../ssh/remote-scripts.js'
import type { Rotation } from './host-report.js'
import { runStep, type StepContext } from './step-runners.js'

/** How long each look may take: the app may still be starting, as when a re-run verifies a host. */
const LOOK_MS = 5000

export interface Found {
  /** Passed the health check (with health-body, when the host may be on the new release). */
  readonly healthy: boolean
  /** The host answered again (a failed reconnection: false). */
  readonly reached: boolean
  readonly rotation: Rotation
  /** What was found, for the report: `reconnected: out of rotation, not healthy (HTTP 502)`. */
  readonly detail: string
}

/**
 * Looks at the host again, once the command that lost its connection (process `group`, if it had
 * started) is over; `onNewRelease`: healthy means healthy on the new release (health-body too). A
 * cancellation (`signal`) cuts the wait for the command short: the host is then not called healthy.
 */
export async function lookAgain(
  context: StepContext,
  { onNewRelease, group, signal }: { onNewRelease: boolean; group?: number; signal: AbortSignal }
): Promise<Found> {
  let rotation: Rotation
  let command = ''
  try {
    if (group !== undefined) command = await awaitCommand(context, group, signal)
    rotation = await measureRotation(context)
  } catch (error: unknown) {
    return {
      healthy: false,
      reached: false,
      rotation: 'unknown',
      detail: `could not reconnect to look at it: ${errorMessage(error)}`
    }
  }
  const timeoutMs = Math.min(context.settings.health.timeoutMs, LOOK_MS)
  const unhealthy = signal.aborted
    ? 'not checked: the run was cancelled'
    : await runStep(context, { kind: 'health', matchBody: onNewRelease, timeoutMs }, NEVER_ABORTED).then(
        () => undefined,
        (error: unknown) => errorMessage(error)
      )
  const where = {
    in: 'in rotation',
    out: 'out of rotation',
    unknown: `rotation not measured (${context.lb.kind === 'commands' ? 'no online-probe' : `${context.lb.kind} could not tell`})`
  }[rotation]
  return {
    healthy: unhealthy === undefined,
    reached: true,
    rotation,
    detail: `reconnected: ${command}${where}, ${unhealthy === undefined ? 'healthy' : `not healthy (${unhealthy})`}`
  }
}

/** Waits for the command's process group to be gone, or ends it past command-timeout: what it did, for the report. */
async function awaitCommand({ host, settings, env }: StepContext, group: number, signal: AbortSignal) {
  const { timeoutMs } = settings.commands
  const { code } = await host.exec(awaitGroup(group, timeoutMs), {
    env,
    timeoutMs: timeoutMs + LOOK_MS,
    signal,
    onLine: () => undefined
  })
  if (code === 3) return `its command ran on past command-timeout (${timeoutMs} ms) and was ended; `
  return code === 0 || code === 2 ? 'its command ended there; ' : ''
}

/** In rotation or not, through the load balancer port, once the host answers again (throws if it cannot). */
async function measureRotation({ host, lb, env }: StepContext): Promise<Rotation> {
  await host.exec(NOTHING, { env, timeoutMs: LOOK_MS, signal: NEVER_ABORTED, onLine: () => undefined })
  return lb.inRotation({ host, env })
}
