// The batch policy: batches one after another, the hosts of a batch in parallel, and a stop
// once more hosts failed than max-failed-hosts allows. Hosts it never reaches stay untouched.
import { countsAsFailed, runHost, skippedHost, type HostReport } from './host-run.js'
import { stepColumns, type StepName } from './host-steps.js'
import { planBatches } from './plan.js'
import type { Clock, Log, RemoteHost, Runner } from '../ports.js'
import type { Settings } from '../inputs/settings.js'

export type RolloutStatus = 'success' | 'failure' | 'cancelled'

export interface RolloutResult {
  readonly status: RolloutStatus
  /** In `hosts` order. */
  readonly hosts: readonly HostReport[]
  readonly batches: number
  /** Every step a host may go through, in order: the summary's columns. */
  readonly steps: readonly StepName[]
  readonly durationMs: number
  /** Why the rollout ended early, if it did. */
  readonly stoppedBecause?: string
}

export interface RolloutDeps {
  readonly settings: Settings
  /** Connected hosts, in `settings.hosts` order. */
  readonly hosts: readonly RemoteHost[]
  readonly runner: Runner
  readonly clock: Clock
  readonly log: Log
  readonly signal: AbortSignal
}

export async function runBatches({ settings, hosts, runner, clock, log, signal }: RolloutDeps): Promise<RolloutResult> {
  const origin = clock.now()
  const batches = planBatches(
    hosts.map((host, i) => ({ host, index: i + 1 })),
    settings.batches.size
  )
  const reports = new Map<number, HostReport>()
  let stoppedBecause: string | undefined
  for (const [b, batch] of batches.entries()) {
    if (b > 0 && settings.batches.pauseMs > 0) await clock.sleep(settings.batches.pauseMs, signal)
    if (signal.aborted) {
      stoppedBecause = 'the run was cancelled'
      break
    }
    const names = batch.map(({ host }) => host.target.entry).join(', ')
    const done = await log.group(`Batch ${b + 1}/${batches.length}: ${names}`, () =>
      Promise.all(
        batch.map(({ host, index }) =>
          runHost({ host, runner, settings, clock, log, signal, batch: b + 1, index, origin })
        )
      )
    )
    batch.forEach(({ index }, i) => reports.set(index, done[i]))
    const failed = [...reports.values()].filter(countsAsFailed).length
    if (signal.aborted) {
      stoppedBecause = 'the run was cancelled'
      break
    }
    if (failed > settings.batches.maxFailedHosts && b < batches.length - 1) {
      stoppedBecause = `${failed} host(s) failed and max-failed-hosts is ${settings.batches.maxFailedHosts}`
      break
    }
  }
  const all = batches.flatMap((batch, b) =>
    batch.map(({ host, index }) => reports.get(index) ?? skippedHost(host.target, b + 1))
  )
  const status: RolloutStatus = signal.aborted ? 'cancelled' : all.some(countsAsFailed) ? 'failure' : 'success'
  return {
    status,
    hosts: all,
    batches: batches.length,
    steps: stepColumns(settings),
    durationMs: clock.now() - origin,
    stoppedBecause
  }
}
