// What the health-file and commands adapters share: a host leaves or rejoins by a command on the
// host (the health file removed or touched, or the user's), and the load balancer notices on its
// own schedule, so the wait is for the evidence (offline-probe / online-probe on the runner) or,
// without a probe, the fixed wait.
import type { RotationChange, Settings } from '../inputs/settings.js'
import { NEVER_ABORTED, type Clock, type ExecResult, type LbMember, type Rotation, type Runner } from '../ports.js'
import { throwIfFailed } from '../rollout/run-on-host.js'
import { pollUntil, type Verdict } from '../rollout/poll.js'
import { removeFile, touchFile } from '../ssh/remote-scripts.js'

/** What the host-side adapters need besides the settings. */
export interface HostSideDeps {
  readonly settings: Settings
  readonly runner: Runner
  readonly clock: Clock
}

/** The most a measurement of rotation may take (a probe, a file test): it must never hold a run up. */
export const MEASURE_MS = 5000

/** The command on the host that takes it out or puts it back: the user's, or the health file removed / touched. */
export function hostSideCommand(settings: Settings, rotation: 'in' | 'out'): string | undefined {
  const { healthFile, offline, online } = settings.loadBalancer
  const command = rotation === 'out' ? offline.command : online.command
  if (command !== undefined || healthFile === undefined) return command
  return rotation === 'out' ? removeFile(healthFile) : touchFile(healthFile)
}

/** Runs a rotation command on the host (offline-command, the health file removed...); throws if it failed. */
export async function runOnHost(
  { settings }: HostSideDeps,
  member: LbMember,
  command: string,
  signal: AbortSignal
): Promise<void> {
  const { timeoutMs } = settings.commands
  const result = await member.host.exec(command, {
    env: member.env,
    timeoutMs,
    signal,
    onLine: (line) => member.output?.(line)
  })
  throwIfFailed(result, timeoutMs, signal)
}

/** The fixed wait, or, with a probe, until the probe confirms the load balancer's view (the wait bounds it). */
export async function awaitChange(
  { settings, runner, clock }: HostSideDeps,
  member: LbMember,
  rotation: 'in' | 'out',
  signal: AbortSignal
): Promise<void> {
  const change: RotationChange = rotation === 'out' ? settings.loadBalancer.offline : settings.loadBalancer.online
  const { probe, waitMs } = change
  if (probe === undefined) return clock.sleep(waitMs, signal)
  const name = rotation === 'out' ? 'offline-probe' : 'online-probe'
  await pollUntil(
    async (budgetMs) => {
      const result = await runner.run(probe, { env: member.env, timeoutMs: budgetMs, signal })
      return exitVerdict(result, result.lastLine)
    },
    {
      clock,
      timeoutMs: waitMs,
      intervalMs: settings.loadBalancer.probeIntervalMs,
      signal,
      waitingFor: name,
      failed: `${name} did not confirm the host ${rotation === 'out' ? 'out of' : 'in'} rotation`
    }
  )
}

/** online-probe, once: in (exit 0), out (any other exit), unknown (timed out, or no probe). */
export async function probeRotation({ settings, runner }: HostSideDeps, member: LbMember): Promise<Rotation> {
  const probe = settings.loadBalancer.online.probe
  if (probe === undefined) return 'unknown'
  const { code, timedOut } = await runner.run(probe, {
    env: member.env,
    timeoutMs: MEASURE_MS,
    signal: NEVER_ABORTED
  })
  return timedOut || code === null ? 'unknown' : code === 0 ? 'in' : 'out'
}

/** A measured rotation, for the dry run's summary. */
export function describeRotation(rotation: Rotation): string {
  return { in: 'in rotation', out: 'out of rotation', unknown: 'rotation not measured' }[rotation]
}

/** A command polled until it succeeds (health-command, a probe): what one run showed. */
export function exitVerdict(result: ExecResult, lastLine = ''): Verdict {
  const seen = result.timedOut ? 'timed out' : `exit code ${result.code}`
  return { ok: result.code === 0, detail: lastLine ? `${seen}: ${lastLine}` : seen }
}
